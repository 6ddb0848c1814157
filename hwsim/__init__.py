"""hwsim: a simulated world and its devices, plugged in where the libraries allow.

GPIO devices are reached through a gpiozero pin factory (`hwsim.gpio:SimFactory`);
I2C chips sit behind the real firmware, run under CPython on a pseudo-terminal
(`hwsim.mcu`). The daemon never imports this package.
"""
