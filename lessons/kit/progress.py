"""An epoch's progress: a bar redrawn in place on a terminal; in a file or a pipe, a line every 30 s and at the end.

    progress = Progress(len(train_dataloader), epoch)   # and progress.close() after the epoch
    progress.update(len(imgs), loss)      # each step; the loss stays on the GPU: .item() would wait for the GPU
    progress.write("训练次数：100, ...")   # print a line without breaking the bar
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
        self.steps = self.images = self.width = self.loss_sum = 0
        self.start = self.drawn = time.perf_counter()

    def update(self, n_images, loss):
        self.steps, self.images, self.loss_sum = self.steps + 1, self.images + n_images, self.loss_sum + loss.detach()
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
        print("\r" + text + " " * (self.width - width(text)), end="", file=self.stream, flush=True)
        self.width, self.drawn = width(text), time.perf_counter()

    def write(self, line):
        """Print a line without mixing it into the bar."""
        print("\r" + " " * self.width + "\r" + line if self.tty and self.width else line, file=self.stream, flush=True)
        self.drawn = time.perf_counter()
        if self.tty and self.width:
            self.draw()

    def close(self):
        if self.tty:
            self.draw()
        print("" if self.tty else self.text(), file=self.stream, flush=True)
