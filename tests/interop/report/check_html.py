#!/usr/bin/python3
"""HTML validity of backprop's reports: each file parsed by html5lib (Debian's python3-html5lib,
the WHATWG parsing algorithm) in strict mode, which raises on the first parse error (a stray end
tag, an unescaped '<' in text, a duplicate attribute, a missing doctype, ...).

    /usr/bin/python3 check_html.py FILE.html...
"""
import sys

import html5lib


def main():
    if len(sys.argv) < 2:
        print("usage: check_html.py FILE.html...", file=sys.stderr)
        return 2
    failed = 0
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
        try:
            doc = parser.parse(data)
        except html5lib.html5parser.ParseError as e:
            print(f"{path}: not valid HTML: {e}")
            failed += 1
            continue
        scripts = doc.findall(".//script")
        links = [e for e in doc.iter() if e.tag in ("link", "iframe", "object", "embed")]
        if scripts or links:
            print(f"{path}: has {len(scripts)} script and {len(links)} link/iframe/object elements")
            failed += 1
            continue
        print(f"{path}: valid ({len(data)} bytes)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
