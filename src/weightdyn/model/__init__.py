"""The model: the 2-layer network (network), its state layout and the layout of arrays of
runs (layout), the activation registry (activations), the weight flow and its Jacobian
(flow), the random streams every run draws from (streams) and the regression tasks
(tasks). The public names are
exported by the package top level (`weightdyn.flow`, `weightdyn.make_task`, ...); this
package re-exports nothing, so that `weightdyn.model.flow` is always the module."""
