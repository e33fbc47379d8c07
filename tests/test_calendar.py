from datetime import date

import pytest

from workflow.calendar import fiscal_year_of, round_dates, thai_date
from workflow.errors import InvalidInput


def test_fiscal_2569():
    assert round_dates(2569, 1) == (date(2025, 10, 1), date(2026, 3, 31))
    assert round_dates(2569, 2) == (date(2026, 4, 1), date(2026, 9, 30))
    assert fiscal_year_of(date(2025, 10, 1)) == 2569 and fiscal_year_of(date(2026, 9, 30)) == 2569
    assert fiscal_year_of(date(2026, 11, 23)) == 2570


def test_thai_dates():
    assert thai_date(date(2026, 3, 31)) == "31 มีนาคม 2569"
    assert thai_date(date(2026, 3, 31), digits="thai") == "๓๑ มีนาคม ๒๕๖๙"


@pytest.mark.parametrize("fy, n", [(2026, 1), (2569, 3)])
def test_bad_round(fy, n):
    with pytest.raises(InvalidInput):
        round_dates(fy, n)


def test_round_of_a_day():
    from datetime import date

    from workflow.calendar import round_of

    assert round_of(date(2025, 10, 1)) == (2569, 1) and round_of(date(2026, 3, 31)) == (2569, 1)
    assert round_of(date(2026, 4, 1)) == (2569, 2) and round_of(date(2026, 9, 30)) == (2569, 2)
