"""P21 神经网络-线性层及其他层介绍 (Linear layers and other layers)

    python lessons/p21_nn_linear.py            # --quick: 2 batches
    tensorboard --logdir logs/p21_nn_linear

Linear(in_features, out_features) computes x @ W.T + b. The course flattens a whole batch of 64
images into one row of 64 * 3 * 32 * 32 = 196608 numbers for Linear(196608, 10), hence drop_last=True:
the last batch of the 10,000 test images has 16, only 49152 numbers.
Printed: the course's three shapes per batch; that short batch failing; flattening per image,
torch.flatten(imgs, start_dim=1) -> (64, 3072), as real models do (P22); a line for each other layer
family in the note: normalization, dropout, distance, loss.
TensorBoard, IMAGES: input, and flattened: a row of 3072 numbers per image, the picture gone.
Differences from the course's nn_linear.py: the short batch is shown failing; the per-image way,
the layer tour and TensorBoard are added; --steps batches (default 3; the course runs all 156).
"""
from kit import common  # before torch: a Ctrl-C while torch loads is then one line
from kit.data import load_data, loader_options

import torch
from torch import nn
from torch.nn import Linear
from torch.utils.data import DataLoader


class Tudui(nn.Module):
    def __init__(self, in_features=196608):
        super().__init__()
        self.linear1 = Linear(in_features, 10)

    def forward(self, input):
        output = self.linear1(input)
        return output


def main(argv=None):
    p = common.parser(__doc__)
    p.add_argument("--steps", type=common.positive_int, default=3, help="batches to run (default: 3)")
    args = p.parse_args(argv)
    steps = 2 if args.quick else args.steps
    common.seed_everything(args.seed)
    device = common.get_device(args.device)

    data = load_data(args)
    dataset = data.test_set
    dataloader = DataLoader(dataset, batch_size=args.batch_size, drop_last=True, **loader_options(args.num_workers))

    in_features = args.batch_size * 3 * 32 * 32  # 64 * 3 * 32 * 32 = 196608: the whole batch in one row
    tudui = Tudui(in_features).to(device)
    print(tudui)

    with common.writer("p21_nn_linear", args, synthetic=data.synthetic) as writer, torch.no_grad():
        for step, (imgs, targets) in enumerate(dataloader):
            if step == steps:
                break
            imgs = imgs.to(device)
            print(imgs.shape)               # torch.Size([64, 3, 32, 32])
            output = torch.flatten(imgs)    # (64, 3, 32, 32) -> (196608,)
            print(output.shape)
            output = tudui(output)          # (196608,) -> (10,)
            print(output.shape)
            writer.add_images("input", imgs, step)
            flattened = torch.flatten(imgs, start_dim=1)           # (64, 3, 32, 32) -> (64, 3072)
            writer.add_image("flattened", flattened.unsqueeze(0), step)  # as a grey (1, 64, 3072) picture

        # why drop_last=True: a short last batch does not fit Linear(196608, 10)
        rest = len(dataset) % args.batch_size
        print(f"{len(dataset)} images = {len(dataset) // args.batch_size} full batches of {args.batch_size} "
              f"+ {rest} left over (the full test set: 10000 = 156 * 64 + 16)")
        short = torch.flatten(imgs[:len(imgs) // 4])  # 16 of 64 images, like that last batch: -> (49152,)
        try:
            tudui(short)
        except RuntimeError as e:
            print(f"a short batch of {len(imgs) // 4} images -> {short.numel()} features -> "
                  f"error: {str(e).splitlines()[0]}")

        # torch.flatten vs reshape, and flattening per image
        print(f"torch.reshape(imgs, (1, 1, 1, -1)) -> {tuple(torch.reshape(imgs, (1, 1, 1, -1)).shape)}"
              "  the course's first try")
        print(f"torch.flatten(imgs)                -> {tuple(torch.flatten(imgs).shape)}  one row for the batch")
        print(f"torch.flatten(imgs, start_dim=1)   -> {tuple(flattened.shape)}  one row per image")
        per_image = Linear(3 * 32 * 32, 10).to(device)
        print(f"per image: Linear(3072, 10) on 16 images -> {tuple(per_image(flattened[:16]).shape)}, "
              "no drop_last needed")

        # the other layer families from the note, one line each
        normalized = nn.BatchNorm2d(3).to(device)(imgs)  # the note's 正则化层: normalization (not regularization)
        means = [round(v, 2) + 0.0 for v in normalized.mean(dim=(0, 2, 3)).tolist()]  # + 0.0 turns -0.0 into 0.0
        stds = [round(v, 2) for v in normalized.std(dim=(0, 2, 3)).tolist()]
        print(f"normalization: BatchNorm2d(3) -> channel means {means}, stds {stds} (faster, steadier training)")
        dropped = nn.Dropout(p=0.5)(torch.ones(8, device=device))  # a new module is in training mode
        print(f"dropout:       Dropout(p=0.5) on eight 1s -> {dropped.tolist()} "
              "(random zeros, the rest * 2; off in eval mode; fights overfitting)")
        distance = nn.PairwiseDistance()(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]))
        print(f"distance:      PairwiseDistance([0, 0], [3, 4]) -> {distance.item():.4f}")
        loss = nn.L1Loss()(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 5.0]))
        print(f"loss:          L1Loss([1, 2, 3], [1, 2, 5]) -> {loss.item():.4f} (more in P23)")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
