#!/bin/bash
# fsx (block mode) at length: on an rloop device and on md raid0 over two,
# fixed seeds, RLOOP_FSX_OPS operations each (default 5,000).
# timeout: 1500
exec env RLOOP_FSX_OPS="${RLOOP_FSX_OPS:-5000}" bash "${0%/*}/../guest/fsx_short.sh"
