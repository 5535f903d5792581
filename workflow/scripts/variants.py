"""Rule variants_comparison: every variant's claims, runs, best members and restart table ->
results/variants/comparison.md, comparison.parquet and the figures variants_headline and
variants_study."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from weightdyn.analysis import variants as av  # noqa: E402
from weightdyn.analysis.config import PredictConfig  # noqa: E402
from weightdyn.pipeline.io import atomic_write, provenance, read_parquet, save_figure, write_parquet  # noqa: E402
import pandas as pd  # noqa: E402

from weightdyn.pipeline.variants import length_pairs, root_configs, variant_name  # noqa: E402
from weightdyn.report import variants as rv  # noqa: E402

p, out = snakemake.params, snakemake.output
configs = root_configs(snakemake.config)
with job_log(snakemake) as log:
    names = [variant_name(root) for root in p.roots]
    tables = {key: {} for key in ("claims", "headline", "horizon", "table1", "outcomes", "early", "restart")}
    runs_of, pcfg_of, thresholds = {}, {}, []
    inputs = zip(names, p.roots, snakemake.input.runs, snakemake.input.best, snakemake.input.claims,
                 snakemake.input.restart)
    for name, root, runs_path, best_path, claims_path, restart_path in inputs:
        cfg = configs[root]
        runs, best = read_parquet(runs_path), read_parquet(best_path)
        pcfg = PredictConfig.from_config(cfg).resolve(runs)
        runs_of[root], pcfg_of[root] = runs, pcfg
        thresholds.append(dict(variant=name, low_kind=pcfg.low_kind, low_level=pcfg.low_level, low=pcfg.low_loss,
                               high_kind=pcfg.high_kind, high_level=pcfg.high_level, high=pcfg.high_loss))
        tables["claims"][name] = read_parquet(claims_path)
        tables["headline"][name] = av.headline_shares(runs, pcfg)
        tables["horizon"][name] = av.horizon_shares(runs, cfg["lyapunov"]["checkpoints"], cfg["training"]["dt"],
                                                    cfg["training"]["n_intervals"])
        tables["table1"][name] = av.table1_cells(best, pcfg)
        tables["outcomes"][name] = av.outcome_shares(runs, pcfg)
        tables["early"][name] = av.best_early(best, pcfg)
        tables["restart"][name] = av.restart_picks(pd.read_csv(restart_path))
        print(f"{name}: {len(runs)} runs; events c_f < {pcfg.low_loss:.6g}, c_f > {pcfg.high_loss:.6g}", file=log)
    stacked = {key: av.across(t) for key, t in tables.items()}
    thresholds = pd.DataFrame(thresholds, columns=list(rv.THRESHOLD_COLUMNS))
    study = {key: stacked[key] for key in ("outcomes", "early", "restart")}
    pairs = length_pairs({root: configs[root] for root in p.roots})
    lengths = pd.concat([av.same_runs_two_lengths(runs_of[a], runs_of[b], pcfg_of[b])
                         .assign(short_variant=variant_name(a), long_variant=variant_name(b)) for a, b in pairs]
                        + [pd.DataFrame()], ignore_index=True)
    summaries = {variant_name(root): s for root, s in p.variants.items()}
    md = rv.comparison_markdown(summaries, stacked["claims"], stacked["headline"], stacked["horizon"],
                                stacked["table1"], lengths, thresholds, study)
    atomic_write(out.markdown, lambda tmp: tmp.write_text(md))
    write_parquet(rv.long_table(stacked["claims"], stacked["headline"], stacked["horizon"], stacked["table1"], lengths,
                                study),
                  out.table, provenance(kind="variants_comparison", variants=names))
    fig = rv.fig_variants(stacked["headline"], stacked["table1"], names, rv.event_names(thresholds))
    save_figure(fig, out.png.removesuffix(".png"), dpi=int(p.dpi))
    save_figure(rv.fig_study(study, names), out.study_png.removesuffix(".png"), dpi=int(p.dpi))
    print(f"wrote {out.markdown}, {out.table}, {out.png}, {out.study_png} and their PDFs for {len(names)} variants",
          file=log)
