"""The ledger: tokens per round, cost from prices per 1M tokens, and the budget guard."""

from __future__ import annotations

import pytest

from assay.distill import BudgetExhausted, Ledger
from assay.models import Completion


def test_tokens_per_round_and_cost():
    led = Ledger(price_in=0.5, price_out=2.0)
    led.record(0, Completion(text="a", prompt_tokens=1000, completion_tokens=100), cached=False)
    led.record(0, Completion(text="b", prompt_tokens=500, completion_tokens=50), cached=True)
    led.record(1, Completion(error="HTTP 500"), cached=False)
    d = led.to_dict()
    assert [r["round"] for r in d["rounds"]] == [0, 1]
    assert d["rounds"][0]["prompt_tokens"] == 1500 and d["rounds"][0]["cache_hits"] == 1
    assert d["totals"]["requests_sent"] == 2 and d["totals"]["errors"] == 1
    assert d["cost_usd"] == pytest.approx((1500 * 0.5 + 150 * 2.0) / 1e6)


def test_no_price_no_cost():
    led = Ledger()
    led.record(0, Completion(text="a", prompt_tokens=10, completion_tokens=1), cached=False)
    assert led.to_dict()["cost_usd"] is None


def test_budget_reserves_the_worst_case_of_requests_in_flight():
    led = Ledger(price_in=1.0, price_out=1.0, budget=1e-3)  # 1000 tokens' worth
    messages = [{"role": "user", "content": "x" * 400}]  # about 100 prompt tokens
    est = led.estimate(messages, max_tokens=300)
    assert est == pytest.approx(400e-6)
    led.reserve(est)
    led.reserve(est)
    with pytest.raises(BudgetExhausted):
        led.reserve(est)  # 1200 > 1000
    led.release(est)
    led.record(0, Completion(text="a", prompt_tokens=100, completion_tokens=10), cached=False)
    led.reserve(est)  # 110 spent + 400 + 400 held <= 1000
    assert led.to_dict()["stopped_by_budget"] is True
