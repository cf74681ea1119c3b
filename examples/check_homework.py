"""Check three hand-derived answers, as a student would: one right, one missing a path, one
with a sign error. Run it: ``python examples/check_homework.py`` (or the same claims on the
command line, ``graphexplain check … --claim …``; see the README).

1. J = 3(a+bc), ∂J/∂b = 3c: right.
2. The seed's 3-layer network, ∂loss/∂w1[1,2] with only the path through g1: the chain rule
   sums over both paths (f2 forks into g1 and g2), so the g2 path is missing.
3. L = (y − w·x)², ∂L/∂w = 2·(y − w·x)·x: the inner derivative ∂(y − w·x)/∂w = −x lost its
   minus, a sign error.
"""

from __future__ import annotations

from graphexplain.api import explain, explain_mlp
from graphexplain.check import CORRECT, WRONG, check_claims, to_text
from graphexplain.nn.mlp import MLPSpec

SEED_NET = MLPSpec((2, 2, 2, 1), bias=False)  # the seed's 2-2-2-1 network, no biases

HOMEWORK = [
    ("J(a,b,c) = 3(a+bc)", None, "dJ/db = 3c", CORRECT, None),
    (SEED_NET, None, "dloss/dw1[1,2] = x1·A'(f2)·w2[2,1]·A'(g1)·w3[1,1]·dloss/dout", WRONG,
     "missing-path"),
    ("L(w,x,y) = (y - w·x)²", {"w": 0.5, "x": 2.0, "y": 3.0}, "dL/dw = 2·(y − w·x)·x", WRONG,
     "sign"),
]


def judge(target, at, claim):
    expl = explain_mlp(target, verify=False) if isinstance(target, MLPSpec) else \
        explain(target, at, verify=False)
    return expl, check_claims(expl, [claim])[0]


def main() -> list:
    verdicts = []
    for target, at, claim, status, diagnosis in HOMEWORK:
        expl, v = judge(target, at, claim)
        print(to_text(expl.derivation, [v]))
        assert v.status == status, (claim, v.status)
        assert (v.diagnosis.kind if v.diagnosis else None) == diagnosis, claim
        verdicts.append(v)
    missing = verdicts[1].diagnosis.data["missing"]
    assert missing == ["w1[1,2] → f2 → A(f2) → g2 → A(g2) → out → loss"], missing
    return verdicts


if __name__ == "__main__":
    main()
