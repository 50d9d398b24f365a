"""One epoch's progress: a bar redrawn in place on a terminal; in a file or a pipe, plain lines (one at least every
30 s, and one at the end). After the first seconds, a line says about how long the epoch will take.

    progress = Progress(len(train_dataloader), epoch)
    progress.update(len(imgs), loss)      # each step; keeps the loss on the GPU (no sync)
    progress.write("训练次数：100, ...")   # print a line without breaking the bar
    progress.close()
"""
import sys
import time

from kit.console import width
from kit.i18n import _

ESTIMATE_AFTER, EVERY = 3.0, 30.0  # seconds: when to estimate the epoch's time; a file gets a line at least this often


class Progress:
    def __init__(self, total, epoch, stream=None):
        self.stream = stream or sys.stdout
        self.tty, self.total, self.epoch, self.estimated = self.stream.isatty(), total, epoch, False
        self.steps = self.images = self.width = 0
        self.loss_sum = 0.0
        self.start = self.drawn = time.perf_counter()

    def update(self, n_images, loss):
        self.steps += 1
        self.images += n_images
        self.loss_sum += loss.detach()  # stays on the GPU: reading it (.item()) waits for the GPU
        now = time.perf_counter()
        if not self.estimated and now - self.start >= ESTIMATE_AFTER and self.steps < self.total:
            self.estimated = True
            self.write(_("epoch {epoch}: about {seconds:.0f} s for its {total} steps, at this speed").format(
                epoch=self.epoch, seconds=(now - self.start) / self.steps * self.total, total=self.total))
        elif self.tty and (now - self.drawn > 0.2 or self.steps == self.total):
            self.draw()
        elif not self.tty and now - self.drawn >= EVERY:
            self.write(self.text())

    def text(self):
        seconds = time.perf_counter() - self.start
        return _("epoch {epoch} [{bar:<20}] {steps}/{total} steps, loss {loss:.4f}, {speed:.0f} images/s, "
                 "{seconds:.1f} s").format(**vars(self), bar="#" * (20 * self.steps // max(self.total, 1)),
                                           loss=float(self.loss_sum) / max(self.steps, 1),
                                           speed=self.images / max(seconds, 1e-9), seconds=seconds)

    def draw(self):
        text = self.text()  # spaces, not escape codes, wipe the longer line before: old Windows consoles too
        self.stream.write("\r" + text + " " * (self.width - width(text)))
        self.stream.flush()
        self.width, self.drawn = width(text), time.perf_counter()

    def write(self, line):
        """Print a line without mixing it into the bar."""
        if self.tty and self.width:
            self.stream.write("\r" + " " * self.width + "\r")
        print(line, file=self.stream, flush=True)
        self.drawn = time.perf_counter()
        if self.tty and self.width:
            self.draw()

    def close(self):
        if self.tty:
            self.draw()
        print("" if self.tty else self.text(), file=self.stream, flush=True)
