#!/bin/bash
# rloopctl list: losetup's default columns, column selection, raw and
# no-heading output, and JSON that parses back with the right types.
# timeout: 200
. "${0%/*}/../lib.sh"

need_disk 1
need_cmd jq
need_tool "$RLOOPCTL"
load_rloop
dir=$(scratch_dir "${DISKS[0]}" xfs -s size=512)
truncate -s 32M "$dir/a" "$dir/b"
a=$(rl_create -o 4096 "$dir/a")
b=$(rl_create -r --sizelimit 8M "$dir/b")

out=$("$RLOOPCTL" list)
assert_eq "$(head -n 1 <<<"$out" | tr -s ' ')" "NAME SIZELIMIT OFFSET AUTOCLEAR RO BACK-FILE DIO LOG-SEC" "default header"
assert_eq "$(wc -l <<<"$out")" 3 "lines of list"
grep -q "^$a .*$dir/a" <<<"$out" || fail "list lacks $a: $out"
# losetup's -a (all devices) and -l (columns) are what list does anyway.
assert_eq "$("$RLOOPCTL" list -a -l)" "$out" "list -a -l"

assert_eq "$("$RLOOPCTL" list -n -O NAME,OFFSET,RO "$a" | tr -s ' ')" "$a 4096 0" "-n -O for $a"
assert_eq "$("$RLOOPCTL" list --raw -n -O name,ro,sizelimit "$b")" "$b 1 $((8 << 20))" "--raw"
all=$("$RLOOPCTL" list --output-all | head -n 1)
for col in NAME AUTOCLEAR BACK-FILE BACK-INO BACK-MAJ:MIN MAJ:MIN OFFSET PARTSCAN RO SIZELIMIT DIO LOG-SEC; do
	grep -qw -- "$col" <<<"$all" || fail "--output-all lacks $col"
done

json=$("$RLOOPCTL" list -J)
assert_eq "$(jq '.rloopdevices | length' <<<"$json")" 2 "JSON device count"
sel=".rloopdevices[] | select(.name == \"$b\")"
# One jq for all the fields (each exec costs in the guest).
tab=$'\t'
assert_eq "$(jq -r "$sel | [(.ro | type), .ro, (.sizelimit | type), .sizelimit, .\"back-file\", .dio, .\"log-sec\"] | @tsv" <<<"$json")" \
	"boolean${tab}true${tab}number${tab}$((8 << 20))${tab}$dir/b${tab}true${tab}512" \
	"ro (boolean), sizelimit (number), back-file, dio and log-sec of $b"
ino=$(stat -c %i "$dir/a")
assert_eq "$("$RLOOPCTL" list -J -O name,back-ino "$a" | jq -r '.rloopdevices[0]."back-ino"')" "$ino" "back-ino"
