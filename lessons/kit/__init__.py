"""The helpers behind the lessons. A lesson imports them as `from kit import common, data`.

You can read every lesson without opening this folder: each call into it is named for what it
does. Each module is short enough to read in a few minutes.
"""
