"""P23 损失函数与反向传播 (Loss functions and backpropagation): Tudui's loss, and backward()

    python lessons/p23_nn_loss_network.py            # --quick: 3 batches
    tensorboard --logdir logs/p23_nn_loss_network

Test images go through Tudui; CrossEntropyLoss compares its 10 scores with the true class, and
result_loss.backward() (反向传播) gives every weight its gradient, in .grad: None before, filled after.
No weight changes yet: that is the optimizer's job (P24).
Printed: each batch's loss (random weights: about ln(10) = 2.30) and the first conv's gradient norm.
TensorBoard: SCALARS cross_entropy, grad_norm_conv1; HISTOGRAMS grad/model.0.weight ... grad/model.8.bias.
Differences from the course's nn_loss_network.py (one image at a time; it prints "ok"):
  - batches of 64 (--batch-size 1 is the course's), and --steps batches, not all 10,000 images
  - result_loss.backward() is called (the script stops at the loss), after tudui.zero_grad():
    backward() adds to .grad, so without it the gradients of all batches would pile up
  - Tudui comes from model.py: its Sequential is `model` (the course's script names it `model1`)
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data

from torch import nn

from model import Tudui


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=10, help="batches to run (default: 10)")
    args = p.parse_args(argv)
    steps = 3 if args.quick else args.steps
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    data = load_data(args)
    dataloader = data.test_loader  # the course uses the test images, in order
    loss = nn.CrossEntropyLoss()
    tudui = Tudui().to(device)
    conv1 = tudui.model[0]
    print(f"before backward(): model.0.weight.grad is {conv1.weight.grad}")

    with common.writer("p23_nn_loss_network", args, synthetic=data.synthetic) as writer:
        for step, (imgs, targets) in enumerate(dataloader):
            if step == steps:
                break
            imgs, targets = imgs.to(device), targets.to(device)
            outputs = tudui(imgs)                   # (64, 3, 32, 32) -> (64, 10) raw scores
            result_loss = loss(outputs, targets)    # (64, 10) and (64,) -> one number, the batch's mean
            tudui.zero_grad()                       # start from empty .grad (backward() adds to it)
            result_loss.backward()                  # fills .grad of every weight
            grad_norm = conv1.weight.grad.norm().item()
            print(f"step {step}: loss {result_loss.item():.4f}, model.0.weight.grad {tuple(conv1.weight.grad.shape)} "
                  f"norm {grad_norm:.4f}")
            writer.add_scalar("cross_entropy", result_loss.item(), step)
            writer.add_scalar("grad_norm_conv1", grad_norm, step)
            for name, param in tudui.named_parameters():
                writer.add_histogram(f"grad/{name}", param.grad, step)
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
