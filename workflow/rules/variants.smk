"""Stage 7: the variants of the config side by side (target `variants`).

Every variant (config section `variants`) is a complete result set under
results/variants/<name>/, built by the rules above with the variant's config. The rule
variants_comparison reads each variant's claims, runs and Table I and writes
results/variants/comparison.md, comparison.parquet (every number in one long table) and
the figures variants_headline.{png,pdf} (the paper's headline shares and Table I) and
variants_study.{png,pdf} (outcomes, early prediction and restart, for any task).
"""

VARIANTS_OUT = {
    "markdown": f"{VARIANTS_ROOT}/comparison.md",
    "table": f"{VARIANTS_ROOT}/comparison.parquet",
    "png": f"{VARIANTS_ROOT}/variants_headline.png",
    "pdf": f"{VARIANTS_ROOT}/variants_headline.pdf",
    "study_png": f"{VARIANTS_ROOT}/variants_study.png",
    "study_pdf": f"{VARIANTS_ROOT}/variants_study.pdf",
}


rule variants_comparison:
    input:
        runs=variant_inputs("runs"),
        best=variant_inputs("best"),
        claims=variant_inputs("claims"),
        restart=variant_inputs("restart"),
    output:
        markdown=report(VARIANTS_OUT["markdown"], caption="../report/variants_comparison.rst",
                        category="Variants", labels={"document": "comparison.md"}),
        table=VARIANTS_OUT["table"],
        png=report(VARIANTS_OUT["png"], caption="../report/variants_headline.rst", category="Variants",
                   labels={"figure": "variants_headline"}),
        pdf=VARIANTS_OUT["pdf"],
        study_png=report(VARIANTS_OUT["study_png"], caption="../report/variants_study.rst", category="Variants",
                         labels={"figure": "variants_study"}),
        study_pdf=VARIANTS_OUT["study_pdf"],
    params:
        roots=VARIANT_ROOTS,
        variants=lambda wildcards: {root: variant_summary(root) for root in VARIANT_ROOTS},
        dpi=config["figures"]["dpi"],
    log:
        f"{VARIANTS_ROOT}/logs/variants_comparison.log",
    localrule: True
    conda:
        ENV
    script:
        "../scripts/variants.py"


rule variants:
    """Every variant's result set and the comparison across them."""
    input:
        lambda wildcards: [path for root in VARIANT_ROOTS for path in root_targets(root)],
        *VARIANTS_OUT.values(),
    localrule: True
