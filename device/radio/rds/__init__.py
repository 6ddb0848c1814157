"""RDS, sans-IO: groups (four 16-bit blocks and their error grades) in, decoded
fields out — PI, PS, radiotext, PTY, TP/TA, AF, clock time, ECC and language,
PTYN, RadioText+, the block error rate — with the EBU character set and a memory
of confirmed texts by PI."""
