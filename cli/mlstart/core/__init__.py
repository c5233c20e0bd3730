"""The core of mlstart: everything the commands do, callable from Python, no CLI imports."""
