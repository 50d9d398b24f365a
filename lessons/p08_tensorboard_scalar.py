"""P8 TensorBoard的使用（一） (Using TensorBoard: add_scalar)

    python lessons/p08_tensorboard_scalar.py
    tensorboard --logdir logs/p08_tensorboard_scalar     # then open http://localhost:6006

writer.add_scalar(tag, scalar_value, global_step): the tag names the chart, the value is the height,
the step is the position along the x axis. TensorBoard, SCALARS:
  y=2x                this run: 2*i for i in 0..99, a straight line up to 198. The course's line logs
                      3*i under this tag, a left-over from re-running it: a tag should say what it holds.
  y=2x, same_folder   the course's trap: two runs written into one folder, 2*i and then 3*i. Their
                      200 points share one chart, joined by one line that zigzags back to step 0.
Differences from the course's code: every run gets its own folder (logs/<lesson>/<time>), so
re-running never mixes two runs' points; the course writes every run into "logs".
"""
import glob
import os

from kit import common  # before torch: a Ctrl-C while torch loads is then one line

from torch.utils.tensorboard import SummaryWriter


def main(argv=None):
    args = common.parser(__doc__, data=False).parse_args(argv)

    with common.writer("p08_tensorboard_scalar", args) as writer:  # the course's SummaryWriter("logs")
        # y = 2x
        for i in range(100):
            writer.add_scalar("y=2x", 2 * i, i)  # the course logs 3*i here: y=3x under the name y=2x
        print("y=2x: step 0 -> 0, step 50 -> 100, step 99 -> 198 (the course's 3*i would reach 297)")

        # re-running into the same folder, as the course's SummaryWriter("logs") does: two writers, two runs
        same_folder = os.path.join(writer.log_dir, "same_folder")
        for factor in (2, 3):  # the first run; then the re-run after editing 2*i into 3*i
            with SummaryWriter(same_folder) as rerun_writer:
                for i in range(100):
                    rerun_writer.add_scalar("y=2x", factor * i, i)
        event_files = glob.glob(os.path.join(same_folder, "events.out.tfevents.*"))
        print(f"same_folder: {len(event_files)} event files, 200 points under one tag y=2x: one tangled "
              "curve. Delete the folder or log each run to a new one (as here) before running again.")
        common.tensorboard_hint(writer)


if __name__ == "__main__":
    common.run(main)
