"""``python -m upsampling``: the command line (see :mod:`upsampling.cli`)."""

from upsampling.cli import main

if __name__ == "__main__":
    main()
