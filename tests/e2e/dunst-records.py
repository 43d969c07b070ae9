#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""dunst-records.py FILE: the notifications `dunst -print` wrote to FILE,
one per line: id, urgency, appname, summary, body, tab-separated (tabs and
newlines inside a field become spaces).  dunst 1.9 prints each one as a
block of "\tkey: 'value'" lines between "{" and "}"; urgency and id are
unquoted."""
import re
import sys

FIELD = re.compile(r"^\t(\w+): (?:'(.*)'|(.*))$")


def records(lines):
    record = None
    for line in lines:
        line = line.rstrip("\n")
        if line == "{":
            record = {}
        elif line == "}" and record is not None:
            yield record
            record = None
        elif record is not None:
            match = FIELD.match(line)
            if match and match.group(1) not in record:
                value = match.group(2) if match.group(2) is not None else match.group(3)
                record[match.group(1)] = value


def main():
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for record in records(f):
            fields = [record.get(k, "") for k in ("id", "urgency", "appname", "summary", "body")]
            print("\t".join(re.sub(r"[\t\n]", " ", v) for v in fields))


if __name__ == "__main__":
    main()
