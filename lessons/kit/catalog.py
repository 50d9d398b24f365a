"""The lesson index: one row per lesson. `python -m lessons`, its tour and the README's table come from here.

`flags` says which of the tour's shared flags the lesson takes besides --logdir, --device, --seed and
--quick (which every lesson takes): DATA = --dataset and --data-root; --checkpoint-dir where it saves;
--checkpoint where it reads a trained model. tests/test_tour.py checks them against each lesson's --help.
"""
from collections import namedtuple

Lesson = namedtuple("Lesson", "p heading title script shows flags", defaults=[()])
DATA = ("--dataset", "--data-root")
SAVES = ("--checkpoint-dir",)

LESSONS = [
    Lesson("P7", "Dataset类代码实战", "Writing a Dataset", "p07_read_data.py",
           "MyData over ants/ and bees/, ants + bees, label files; IMAGES: the first ant and bee", ("--data-root",)),
    Lesson("P8", "TensorBoard的使用（一）", "TensorBoard: add_scalar", "p08_tensorboard_scalar.py",
           "SCALARS: y=2x, and the tangle two runs make in one folder"),
    Lesson("P9", "TensorBoard的使用（二）", "TensorBoard: add_image", "p09_tensorboard_image.py",
           "numpy (H, W, C) needs dataformats='HWC'; IMAGES: two pictures on one step slider"),
    Lesson("P10", "Transforms的使用（一）", "Transforms: ToTensor", "p10_transforms_totensor.py",
           "(H, W, C) uint8 0..255 -> (C, H, W) float 0..1; IMAGES: Tensor_img"),
    Lesson("P11", "Transforms的使用（二）", "Why tensors; a transform in a Dataset", "p11_transforms_dataset.py",
           "__call__, a tensor's attributes, PIL images vs tensors in a batch; IMAGES: the batch", ("--data-root",)),
    Lesson("P12", "常见的Transforms（一）", "Common transforms: Normalize, Resize", "p12_transforms_normalize.py",
           "a pixel before and after Normalize, by the formula; IMAGES: ToTensor, Normalize, Resize"),
    Lesson("P13", "常见的Transforms（二）", "Common transforms: Compose, RandomCrop", "p13_transforms_compose.py",
           "which transform takes PIL or tensor; IMAGES: Resize via Compose, 10 random crops"),
    Lesson("P14", "torchvision中的数据集使用", "torchvision's data sets: CIFAR10", "p14_dataset_transform.py",
           "test_set[0], test_set.classes; IMAGES: the first 10 test images", DATA),
    Lesson("P15", "DataLoader的使用", "Using DataLoader", "p15_dataloader.py",
           "batch_size, shuffle, drop_last in action; IMAGES: two shuffled epochs of batches", DATA),
    Lesson("P16", "神经网络的基本骨架-nn.Module的使用", "The skeleton: nn.Module", "p16_nn_module.py",
           "forward() called through __call__: 1.0 -> 2.0"),
    Lesson("P17", "卷积操作", "The convolution operation", "p17_nn_conv.py",
           "F.conv2d with stride and padding on a 5x5 matrix; TEXT: the matrices as tables"),
    Lesson("P18", "神经网络-卷积层", "Convolution layers: nn.Conv2d", "p18_nn_conv2d.py",
           "IMAGES: input batch and all six output channels", DATA),
    Lesson("P19", "神经网络-最大池化的使用", "Max pooling: nn.MaxPool2d", "p19_nn_maxpool.py",
           "ceil_mode True vs False; IMAGES: images before and after pooling", DATA),
    Lesson("P20", "神经网络-非线性激活", "Non-linear activations: ReLU, Sigmoid", "p20_nn_relu.py",
           "inplace; IMAGES: before/after ReLU and Sigmoid; SCALARS: the activation curves", DATA),
    Lesson("P21", "神经网络-线性层及其他层介绍", "Linear and other layers", "p21_nn_linear.py",
           "flatten 64 images to 196608 features -> Linear(196608, 10); other layer families", DATA),
    Lesson("P22", "神经网络-搭建小实战和Sequential的使用", "Building Tudui with Sequential", "p22_nn_seq.py",
           "shape check and parameter count; GRAPHS: the model"),
    Lesson("P23", "损失函数与反向传播", "Loss functions", "p23_nn_loss.py",
           "L1Loss, MSELoss, CrossEntropyLoss by hand and by PyTorch; their shape rules"),
    Lesson("P23", "损失函数与反向传播", "Loss and backprop on Tudui", "p23_nn_loss_network.py",
           "backward() fills .grad; HISTOGRAMS: gradients", DATA),
    Lesson("P24", "优化器（一）", "Optimizers: SGD", "p24_nn_optim.py",
           "SCALARS: running loss per epoch going down; optional StepLR", DATA),
    Lesson("P25", "现有网络模型的使用及修改", "Using and modifying VGG16", "p25_model_pretrained.py",
           "weights= instead of pretrained=; two ways to change the classifier", DATA),
    Lesson("P26", "网络模型的保存与读取", "Saving models", "p26_model_save.py",
           "method 1 (whole model) vs method 2 (state_dict), file sizes", SAVES),
    Lesson("P26", "网络模型的保存与读取", "Loading models", "p26_model_load.py",
           "weights_only loading, safe allow-lists, map_location", SAVES + ("--checkpoint",)),
    Lesson("P27", "完整的模型训练套路", "The complete training routine", "p27_train.py",
           "SCALARS: train_loss, test_loss, test_accuracy; per-class accuracy, confusion matrix", DATA + SAVES),
    Lesson("P30", "利用GPU训练", "GPU training, .cuda() style", "p30_train_gpu_1.py",
           "the same routine with .cuda(); time per 100 steps", DATA + SAVES),
    Lesson("P31", "利用GPU训练", "GPU training, .to(device) style", "p31_train_gpu_2.py",
           "torch.device and .to(device), CPU/MPS fallback", DATA + SAVES),
    Lesson("P32", "完整的模型验证套路", "Validating on real images", "p32_test.py",
           "class names and top-3 probabilities for photos; IMAGES: each input with its prediction", ("--checkpoint",)),
    Lesson("P33", "（课程之外）训练提速", "Bonus: the same Tudui, trained fast", "p33_train_fast.py",
           "each measured speed-up a flag; SCALARS: one-cycle learning_rate, test_accuracy per epoch", DATA + SAVES),
    Lesson("P34", "（课程之外）多进程/多机训练", "Bonus: several processes or machines (DDP)", "p34_train_ddp.py",
           "torchrun --nproc_per_node=2; only rank 0 logs and saves", DATA + SAVES),
]
