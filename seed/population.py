"""Who the seeded business serves: accounts, viewing profiles and the visitors they came from.

Names, emails and phones come from Faker pools drawn once per locale (Faker is slow per call, so a
few hundred names per locale are combined with NumPy), with the run's seed, so a seed gives the
same people every time.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pandas as pd
from faker import Faker

from backend.catalogue.rules import KIDS_PROFILE_CAP
from seed import rhythms
from seed.rhythms import EVENING, WEEKDAY

DAY = 86_400
# (country, Faker locale, calling code, national digits, share of accounts)
MARKETS = [
    ("US", "en_US", "1", 10, 0.36),
    ("GB", "en_GB", "44", 10, 0.10),
    ("CA", "en_CA", "1", 10, 0.06),
    ("IN", "en_IN", "91", 10, 0.10),
    ("DE", "de_DE", "49", 10, 0.07),
    ("FR", "fr_FR", "33", 9, 0.06),
    ("ES", "es_ES", "34", 9, 0.05),
    ("BR", "pt_BR", "55", 11, 0.08),
    ("MX", "es_MX", "52", 10, 0.05),
    ("JP", "ja_JP", "81", 10, 0.03),
    ("AU", "en_AU", "61", 9, 0.04),
]
# (traffic source, share of signups, visitor-to-signup conversion)
SOURCES = [
    ("organic_search", 0.30, 0.12),
    ("paid_search", 0.20, 0.09),
    ("social", 0.15, 0.04),
    ("referral", 0.12, 0.20),
    ("direct", 0.13, 0.15),
    ("email", 0.06, 0.14),
    ("display", 0.04, 0.025),
]
LANDING_PAGES = np.array(["/", "/plans", "/browse", "/title", "/sign-up"])
LANDING_WEIGHTS = np.array([0.40, 0.20, 0.20, 0.12, 0.08])
DEVICES = np.array(["tv", "web", "mobile", "tablet"])
DEVICE_WEIGHTS = np.array([0.45, 0.20, 0.27, 0.08])
FAMILY_NAMES = np.array(["Sam", "Jamie", "Alex", "Robin", "Charlie", "Taylor", "Jordan", "Casey", "Riley", "Morgan"])
GROWTH = np.log(3.0)  # signups per day triple over the window
STAFF = [("demo.admin@example.com", "Demo Admin", "admin"), ("demo.analyst@example.com", "Demo Analyst", "analyst")]


@dataclass
class Population:
    accounts: pd.DataFrame  # user_id, email, display_name, country_code, phone_e164, role, created_at, locale
    profiles: pd.DataFrame  # user_id, profile_id, name, is_kids, maturity_cap, created_at
    visitors: pd.DataFrame  # first_seen_at, traffic_source, landing_page, country_code, device_type, ...


def day_weights(start: int, end: int) -> tuple[np.ndarray, np.ndarray]:
    """(day start instants, relative signup weight of each day): growth, the holiday peak and summer dip,
    weekends."""
    days = np.arange(start, end, DAY)
    progress = (days - start) / max(end - start, 1)
    numbers = days // DAY
    return days, np.exp(GROWTH * progress) * rhythms.seasonal(numbers) * WEEKDAY[rhythms.weekday(numbers)]


def sample_instants(
    rng: np.random.Generator, n: int, days: np.ndarray, weights: np.ndarray, hour_weights: np.ndarray = EVENING
) -> np.ndarray:
    """n instants (Unix seconds): a day by `weights`, an hour by `hour_weights`, a uniform second."""
    day = rng.choice(days, size=n, p=weights / weights.sum())
    hour = rng.choice(24, size=n, p=hour_weights / hour_weights.sum())
    return day + hour * 3600 + rng.integers(0, 3600, size=n)


def _ascii_slug(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum()) or "member"


def _name_pools(seed: int, size: int = 150) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    pools = {}
    for _country, locale, *_ in MARKETS:
        fake = Faker(locale)
        fake.seed_instance(seed)
        firsts = [fake.first_name() for _ in range(size)]
        lasts = [fake.last_name() for _ in range(size)]
        if locale == "ja_JP":  # romanised names read better in emails and the admin pages
            firsts = [fake.first_romanized_name() for _ in range(size)]
            lasts = [fake.last_romanized_name() for _ in range(size)]
        pools[locale] = (np.array(firsts, dtype=object), np.array(lasts, dtype=object))
    return pools


def make_accounts(rng: np.random.Generator, n: int, start: int, end: int, seed: int) -> pd.DataFrame:
    """n subscriber accounts with signup instants over [start, end), plus the demo staff accounts."""
    days, weights = day_weights(start, end)
    created = np.sort(sample_instants(rng, n, days, weights))
    market = rng.choice(len(MARKETS), size=n, p=[m[4] for m in MARKETS])
    pools = _name_pools(seed)
    first = np.empty(n, dtype=object)
    last = np.empty(n, dtype=object)
    for index, (_country, locale, *_rest) in enumerate(MARKETS):
        rows = np.flatnonzero(market == index)
        firsts, lasts = pools[locale]
        first[rows] = firsts[rng.integers(0, len(firsts), rows.size)]
        last[rows] = lasts[rng.integers(0, len(lasts), rows.size)]
    slugs = {name: _ascii_slug(name) for name in set(first) | set(last)}
    domains = np.array(["example.com", "example.net", "example.org"])[rng.integers(0, 3, n)]
    emails = [
        f"{slugs[f]}.{slugs[la]}{i + 1}@{d}" for i, (f, la, d) in enumerate(zip(first, last, domains, strict=True))
    ]
    country = np.array([m[0] for m in MARKETS])[market]
    zone = rhythms.assign_zones(rng, country)
    accounts = pd.DataFrame(
        {
            "email": emails,
            "display_name": [f"{f} {la}" for f, la in zip(first, last, strict=True)],
            "first_name": first,
            "country_code": country,
            "phone_e164": _phones(rng, market),
            "role": "subscriber",
            "created_at": created,
            "zone": zone,
        }
    )
    staff = pd.DataFrame(
        {
            "email": [s[0] for s in STAFF],
            "display_name": [s[1] for s in STAFF],
            "first_name": [s[1].split()[0] for s in STAFF],
            "country_code": "US",
            "phone_e164": None,
            "role": [s[2] for s in STAFF],
            "created_at": start,
            "zone": 0,
        }
    )
    return pd.concat([accounts, staff], ignore_index=True)


def _phones(rng: np.random.Generator, market: np.ndarray) -> np.ndarray:
    """E.164 numbers for about 60% of accounts (the rest left none)."""
    phones = np.full(market.size, None, dtype=object)
    has = rng.random(market.size) < 0.6
    for index, (_country, _locale, code, digits, _share) in enumerate(MARKETS):
        rows = np.flatnonzero(has & (market == index))
        national = rng.integers(2 * 10 ** (digits - 1), 10**digits - 1, size=rows.size, dtype=np.int64)
        phones[rows] = [f"+{code}{number}" for number in national]
    return phones


def make_profiles(rng: np.random.Generator, accounts: pd.DataFrame) -> pd.DataFrame:
    """1-5 viewing profiles per subscriber account (the first named after the account holder), one for
    staff (the app needs one on every account); about a quarter of households with several have a Kids one."""
    members = accounts
    counts = rng.choice([1, 2, 3, 4, 5], size=len(members), p=[0.34, 0.30, 0.20, 0.11, 0.05])
    counts[(members["role"] != "subscriber").to_numpy()] = 1
    owner = np.repeat(np.arange(len(members)), counts)
    slot = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    first_names = members["first_name"].to_numpy()[owner]
    names = np.where(slot == 0, first_names, FAMILY_NAMES[(owner + slot) % len(FAMILY_NAMES)])
    clash = (slot > 0) & (names == first_names)
    names[clash] = [f"{name} Jr." for name in names[clash]]
    has_kids = (counts >= 2) & (rng.random(len(members)) < 0.25)
    is_kids = (slot == counts[owner] - 1) & has_kids[owner] & (slot > 0)
    names[is_kids] = "Kids"
    created = members["created_at"].to_numpy()[owner] + np.where(slot == 0, 0, rng.integers(60, 20 * DAY, owner.size))
    return pd.DataFrame(
        {
            "user_id": members["user_id"].to_numpy()[owner],
            "name": names,
            "is_kids": is_kids,
            "maturity_cap": np.where(is_kids, KIDS_PROFILE_CAP, None),
            "created_at": created,
            "slot": slot,
        }
    )


def make_visitors(rng: np.random.Generator, accounts: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """The visitors who signed up (one per subscriber account, first seen 0-14 days before signing up)
    and those who did not, by traffic source with each source's own conversion."""
    members = accounts[accounts["role"] == "subscriber"]
    n = len(members)
    share = np.array([s[1] for s in SOURCES])
    source = rng.choice(len(SOURCES), size=n, p=share / share.sum())
    signed_up = pd.DataFrame(
        {
            "first_seen_at": np.maximum(members["created_at"].to_numpy() - rng.integers(0, 14 * DAY, n), start),
            "source": source,
            "country_code": members["country_code"].to_numpy(),
            "signed_up_user_id": members["user_id"].to_numpy(),
            "signed_up_at": members["created_at"].to_numpy(),
        }
    )
    conversion = np.array([s[2] for s in SOURCES])
    others_per_source = rng.poisson(np.bincount(source, minlength=len(SOURCES)) * (1 - conversion) / conversion)
    days, weights = day_weights(start, end)
    m = int(others_per_source.sum())
    countries = np.array([c[0] for c in MARKETS])
    others = pd.DataFrame(
        {
            "first_seen_at": sample_instants(rng, m, days, weights, np.ones(24)),
            "source": np.repeat(np.arange(len(SOURCES)), others_per_source),
            "country_code": countries[rng.choice(len(MARKETS), size=m, p=[c[4] for c in MARKETS])],
            "signed_up_user_id": pd.array([None] * m, dtype="Int64"),
            "signed_up_at": None,
        }
    )
    visitors = pd.concat([signed_up, others], ignore_index=True)
    total = len(visitors)
    visitors["traffic_source"] = np.array([s[0] for s in SOURCES])[visitors.pop("source").to_numpy()]
    visitors["landing_page"] = LANDING_PAGES[rng.choice(len(LANDING_PAGES), size=total, p=LANDING_WEIGHTS)]
    visitors["device_type"] = DEVICES[rng.choice(len(DEVICES), size=total, p=DEVICE_WEIGHTS)]
    return visitors.sort_values(["first_seen_at", "traffic_source"], kind="stable").reset_index(drop=True)
