"""P8 TensorBoard的使用（一） (Using TensorBoard: add_scalar)

    python lessons/p08_tensorboard_scalar.py
    tensorboard --logdir logs/p08_tensorboard_scalar     # then open http://localhost:6006

writer.add_scalar(tag, scalar_value, global_step): the tag names the chart, the value is the height,
the step is the position along the x axis. TensorBoard, SCALARS:
  y=2x                this run: 2*i for i in 0..99, a straight line up to 198. The course's file logs
                      3*i under this tag, a left-over from re-running it: a tag should say what it holds.
  y=2x, same_folder   the course's trap: two runs written into one folder, 2*i and then 3*i. Their
                      200 points share one chart, joined by one line that zigzags back to step 0.
Differences from the course's code (P8_Tensorboard.py; its add_image part is P9): every run gets its
own folder (logs/<lesson>/<time>), so re-running never mixes two runs' points; the course writes
every run into "logs".
"""
import glob
import os

from kit import board, console, flags  # before torch: a Ctrl-C while torch loads is then one line
from kit.i18n import _

from torch.utils.tensorboard import SummaryWriter


def main(argv=None):
    args = flags.parse(flags.parser(__doc__, data=False, device=False, seed=False, quick=False), argv)

    writer = SummaryWriter(board.run_dir("p08_tensorboard_scalar", args))  # the course's SummaryWriter("logs")
    # y = 2x
    for i in range(100):
        # the course's file logs 3*i here: y=3x under the name y=2x
        writer.add_scalar("y=2x", 2*i, i)

    # re-running into the same folder, as the course's SummaryWriter("logs") does: two writers, two runs
    same_folder = os.path.join(writer.log_dir, "same_folder")
    for factor in (2, 3):  # the first run; then the re-run after editing 2*i into 3*i
        rerun_writer = SummaryWriter(same_folder)
        for i in range(100):
            rerun_writer.add_scalar("y=2x", factor * i, i)
        rerun_writer.close()

    writer.close()
    print("y=2x: step 0 -> 0, step 50 -> 100, step 99 -> 198 " + _("(the course's 3*i would reach 297)"))
    event_files = glob.glob(os.path.join(same_folder, "events.out.tfevents.*"))
    print(_("same_folder: {n} event files, 200 points under one tag y=2x: one tangled curve. Delete the folder "
            "or log each run to a new one (as here) before running again.").format(n=len(event_files)))
    board.tensorboard_hint(writer)


if __name__ == "__main__":
    console.run(main)
