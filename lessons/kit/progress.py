"""A progress bar for one epoch, without a dependency: redrawn in place on a terminal, one summary line
per epoch when the output goes to a file or a pipe (so logs stay readable).

    progress = Progress(len(train_dataloader), epoch)
    progress.update(len(imgs), loss)      # each step; keeps the loss on the GPU (no sync)
    progress.write("训练次数：100, ...")   # print a line without breaking the bar
    progress.close()
"""
import sys
import time


class Progress:
    """One epoch's progress: a line redrawn in place on a terminal, one summary line in a file or pipe."""

    def __init__(self, total, epoch, stream=None):
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty()
        self.total, self.epoch = total, epoch
        self.steps = self.images = self.width = 0
        self.loss_sum = 0.0
        self.start = self.drawn = time.perf_counter()

    def update(self, n_images, loss):
        self.steps += 1
        self.images += n_images
        self.loss_sum += loss.detach()  # stays on the GPU: reading it (.item()) waits for the GPU
        if self.tty and (time.perf_counter() - self.drawn > 0.2 or self.steps == self.total):
            self.draw()

    def text(self):
        seconds = time.perf_counter() - self.start
        loss = float(self.loss_sum) / max(self.steps, 1)
        bar = "#" * (20 * self.steps // max(self.total, 1))
        return (f"epoch {self.epoch} [{bar:<20}] {self.steps}/{self.total} steps, loss {loss:.4f}, "
                f"{self.images / max(seconds, 1e-9):.0f} images/s, {seconds:.1f} s")

    def draw(self):
        text = self.text()
        self.stream.write("\r" + text.ljust(self.width))  # spaces, not escape codes: old Windows consoles too
        self.stream.flush()
        self.width, self.drawn = len(text), time.perf_counter()

    def write(self, line):
        """Print a line without mixing it into the bar."""
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
        print(line, file=self.stream, flush=True)
        if self.tty and self.width:
            self.draw()

    def close(self):
        if self.tty:
            self.draw()
            self.stream.write("\n")
        else:
            print(self.text(), file=self.stream)
        self.stream.flush()
