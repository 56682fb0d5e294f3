#!/usr/bin/python3
"""Load a PKCS#11 module, keep it initialised, and wait.

Usage: /usr/bin/python3 hold_module.py MODULE_PATH

Calls C_Initialize (through PyKCS11), prints "ready" on stdout and then
waits until stdin reaches end-of-file or SIGTERM/SIGINT/SIGHUP arrives;
then calls C_Finalize and exits 0.  Used by first_token.sh to hold the
module's storage lock while a second process tries to open it.  If loading
fails it prints "error: ..." on stderr and exits 1.
"""
import signal
import sys


def _stop(signum, frame):
    raise SystemExit(0)


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: hold_module.py MODULE_PATH\n")
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _stop)
    import PyKCS11

    lib = PyKCS11.PyKCS11Lib()
    try:
        lib.load(sys.argv[1])  # dlopen + C_GetFunctionList + C_Initialize
        lib.getInfo()  # proves the module answers
    except PyKCS11.PyKCS11Error as e:
        sys.stderr.write("error: %s\n" % e)
        return 1
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        try:
            lib.unload()  # C_Finalize
        except Exception:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
