"""nn.models: the course's models built from nn layers (one module per family)."""
from . import gnn  # noqa: F401
from . import fcn, lenet, resnet  # noqa: F401  (googlenet: the function below, as torchvision)
from .lenet import LeNet5  # noqa: F401
from .resnet import BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50  # noqa: F401
from .googlenet import GoogLeNet, Inception, googlenet, googlenet_small  # noqa: F401
from .fcn import FCN  # noqa: F401
from . import memn2n, ntm, unrolled  # noqa: F401
from .memn2n import MemN2N  # noqa: F401
from .ntm import NTM  # noqa: F401
from .unrolled import LISTA, SC2Net  # noqa: F401
from . import bert, gpt  # noqa: F401
from .bert import BERT  # noqa: F401
from .gpt import GPT  # noqa: F401
from . import recursive, seq2seq  # noqa: F401
from .recursive import RecursiveNet  # noqa: F401
from .seq2seq import Seq2Seq  # noqa: F401
