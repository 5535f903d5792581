"""The model: the 2-layer network, its state layout, activations, the weight flow and its
Jacobian, and the random streams (data, initial states, batches) every run draws from."""
from .activations import ACTIVATIONS, Activation, activation, activation_into, register
from .flow import flow, flow_and_jacobian, flow_jacobian, numeric_flow_jacobian
from .layout import RUN_ALIGN, Shape, layout_indices, pack, row_length, unpack
from .network import loss
from .streams import BATCH_MODES, INITS, TARGETS, batch_indices, initial_state, make_task
