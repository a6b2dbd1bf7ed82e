try:
    from guidekb.cli import main
except KeyboardInterrupt:  # Ctrl-C before guidekb's own handling is loaded: still 130, one line
    import os
    import sys

    sys.stderr.write("guidekb: interrupted\n")
    os._exit(130)

main()
