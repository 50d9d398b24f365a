"""The lesson scripts (P7-P34), one per heading of the course notes.

Each script runs on its own: `python lessons/p18_nn_conv2d.py`. `python -m lessons` lists them,
tours them all (`python -m lessons tour --quick`) or runs one by number (`python -m lessons run 27`).
"""
