"""The Nexmark event generator: deterministic, seeded, and addressable by event index.

Rules (from the Nexmark benchmark's generator, ``com.github.nexmark.flink.generator``: ``GeneratorConfig``,
``NexmarkGenerator``, ``model/PersonGenerator``, ``AuctionGenerator``, ``BidGenerator``, ``PriceGenerator``,
``StringsGenerator``; defaults from ``NexmarkConfiguration``):

- Event ``n`` (0, 1, 2, ...) is a person, an auction or a bid by ``n % 50``: 0 -> person, 1..3 -> auction,
  4..49 -> bid (proportions 1 : 3 : 46, configurable).
- Ids are dense: person ids and auction ids count up from 1000 as persons/auctions are generated.
- Bids go to a *hot* auction (the first of the last 100 auctions) with probability ``1 - 1/hot_auction_ratio``
  (1/2), otherwise to a random auction among the ``num_in_flight_auctions`` (100) most recent plus 10 ahead. Bidders
  are *hot* (the second of the last 100 persons) with probability ``1 - 1/hot_bidders_ratio`` (3/4), otherwise a
  random person among the ``num_active_people`` (1000) most recent plus 10 ahead. Sellers likewise, hot (the first of
  the last 100 persons) with probability ``1 - 1/hot_sellers_ratio`` (3/4).
- Prices (cents) are ``round(10 ** (u * 6) * 100)`` with ``u`` uniform in [0, 1): log-uniform from $1 to $1M.
- Event time of event ``n``: ``first_event_time_ms + floor(n * inter_event_delay_us) // 1000``, with
  ``inter_event_delay_us = 1e6 / events_per_second`` (monotone, independent of wall clock).
- Auctions expire after a random time averaging twice the time until ``num_in_flight_auctions`` more auctions;
  strings are random lowercase text; ``extra`` pads each event to the average byte size (person 200, auction 500,
  bid 100), +-20%.

How yflink differs (for speed and parallelism-independence; see also :mod:`yflink.connectors.nexmark`):

- Randomness is a function of ``(seed, event index)``, not one ``java.util.Random`` stream: every block of 1024
  events gets 32 KiB from SHAKE-128 keyed by ``(seed, block)``, 4 x 64-bit words per event. So any subtask can
  generate any event directly, and event ``n`` is the same whatever the parallelism. The stream is the same on
  every platform and Python version, but it is not the Java generator's stream: values follow the same rules and
  distributions, not the same draws.
- One event timeline for all subtasks (Nexmark gives each parallel generator its own timeline and id space);
  subtask ``i`` of ``p`` generates events ``i, i + p, i + 2p, ...``.
- Random strings (names, descriptions, ``extra``) are slices of a seeded 64 KiB pool of random letters at random
  offsets, instead of fresh characters per string.
- The first event id is 0, as in Beam's Nexmark (``nexmark-flink`` starts at 1), so the stream opens with a person.
- The bidder id offset of 1000 is added once (current ``nexmark-flink`` adds it twice, a bug).
- Channel URLs are derived from the seed and channel number instead of unseeded randomness.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass
from typing import Any

from yflink.connectors.nexmark.model import Auction, Bid, Event, Person

#: Nexmark ``GeneratorConfig.FIRST_PERSON_ID``.
FIRST_PERSON_ID = 1000
#: Nexmark ``GeneratorConfig.FIRST_AUCTION_ID``.
FIRST_AUCTION_ID = 1000
#: Nexmark ``GeneratorConfig.FIRST_CATEGORY_ID``.
FIRST_CATEGORY_ID = 10
#: Nexmark ``AuctionGenerator.NUM_CATEGORIES``.
NUM_CATEGORIES = 5
#: Hot auctions/sellers/bidders are the first (second for bidders) of each batch of this many (Nexmark
#: ``HOT_AUCTION_RATIO``, ``HOT_SELLER_RATIO``, ``HOT_BIDDER_RATIO``).
HOT_BATCH = 100
#: Ids this far beyond the last generated one may be chosen (Nexmark ``AUCTION_ID_LEAD``/``PERSON_ID_LEAD``).
ID_LEAD = 10
#: Nexmark ``BidGenerator``: hot channels, chosen with probability 1 - 1/HOT_CHANNELS_RATIO, else one of
#: CHANNELS_NUMBER numbered channels.
HOT_CHANNELS = ("Google", "Facebook", "Baidu", "Apple")
HOT_CHANNELS_RATIO = 2
CHANNELS_NUMBER = 10_000
#: Nexmark ``NexmarkConfiguration.firstEventRate``: events per second of event time when no rate is given.
DEFAULT_EVENTS_PER_SECOND = 10_000

US_STATES = ("AZ", "CA", "ID", "OR", "WA", "WY")
US_CITIES = ("Phoenix", "Los Angeles", "San Francisco", "Boise", "Portland", "Bend", "Redmond", "Seattle", "Kent",
             "Cheyenne")
FIRST_NAMES = ("Peter", "Paul", "Luke", "John", "Saul", "Vicky", "Kate", "Julie", "Sarah", "Deiter", "Walter")
LAST_NAMES = ("Shultz", "Abrams", "Spencer", "White", "Bartels", "Walton", "Smith", "Jones", "Noris")

#: Events per block of random words, and 64-bit words per event.
BLOCK_EVENTS = 1024
WORDS_PER_EVENT = 4
_POOL_OFFSETS = 1 << 16  # random strings start at one of this many pool offsets (a 16-bit draw)
_M16 = 0xFFFF
_M32 = 0xFFFFFFFF
_PRICE_SCALE = 6.0 / 2.0 ** 32
_LETTERS = bytes(ord("a") + b % 26 for b in range(256))
_SPACED = bytes(ord(" ") if b < 20 else ord("a") + b % 26 for b in range(256))  # P(space) = 20/256 ~ 1/13


@dataclass(frozen=True)
class NexmarkConfig:
    """The Nexmark generator's knobs (Nexmark ``NexmarkConfiguration``; defaults are Nexmark's).

    Attributes:
        person_proportion, auction_proportion, bid_proportion: events of each kind per
            ``person + auction + bid`` events (1 : 3 : 46).
        avg_person_byte_size, avg_auction_byte_size, avg_bid_byte_size: average event sizes (bytes) that
            ``extra`` pads to.
        hot_auction_ratio: bids go to a hot auction with probability ``1 - 1/hot_auction_ratio``.
        hot_sellers_ratio: auctions have a hot seller with probability ``1 - 1/hot_sellers_ratio``.
        hot_bidders_ratio: bids have a hot bidder with probability ``1 - 1/hot_bidders_ratio``.
        num_in_flight_auctions: how many recent auctions a non-hot bid may go to.
        num_active_people: how many recent persons a non-hot seller/bidder may be.
    """

    person_proportion: int = 1
    auction_proportion: int = 3
    bid_proportion: int = 46
    avg_person_byte_size: int = 200
    avg_auction_byte_size: int = 500
    avg_bid_byte_size: int = 100
    hot_auction_ratio: int = 2
    hot_sellers_ratio: int = 4
    hot_bidders_ratio: int = 4
    num_in_flight_auctions: int = 100
    num_active_people: int = 1000

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < (0 if name.endswith("proportion") else 1):
                raise ValueError(f"NexmarkConfig.{name} must be positive, got {value}")
        if self.person_proportion < 1 or self.auction_proportion < 1:
            raise ValueError("NexmarkConfig: person_proportion and auction_proportion must be at least 1")

    @property
    def total_proportion(self) -> int:
        return self.person_proportion + self.auction_proportion + self.bid_proportion


def _round_half_up(x: float) -> int:
    """Java ``Math.round``."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def _extra_size(current_size: int, average_size: int) -> tuple[int, int]:
    """``(min size, span)`` of Nexmark's ``nextExtra``: the size is ``min + random(span)`` (span 0: exactly min)."""
    if current_size > average_size:
        return 0, 0
    average_size -= current_size
    delta = _round_half_up(average_size * 0.2)
    return average_size - delta, 2 * delta


def _reverse_int32(n: int) -> int:
    """Java ``Math.abs(Integer.reverse(n))``."""
    r = int(f"{n & _M32:032b}"[::-1], 2)
    return abs(r - (1 << 32) if r >= 1 << 31 else r)


class NexmarkGenerator:
    """Generates Nexmark events by index.

    Args:
        seed: selects the random stream; the same seed gives the same events.
        first_event_time_ms: event time of event 0, ms since the epoch.
        events_per_second: event-time rate: event ``n`` happens ``n / events_per_second`` s after event 0.
        config: the generator's knobs.
    """

    def __init__(self, seed: int = 0, first_event_time_ms: int = 0,
                 events_per_second: float = DEFAULT_EVENTS_PER_SECOND, config: NexmarkConfig | None = None) -> None:
        if events_per_second <= 0:
            raise ValueError(f"events_per_second must be positive, got {events_per_second}")
        self.seed = int(seed)
        self.first_event_time_ms = int(first_event_time_ms)
        self.events_per_second = events_per_second
        self.config = config or NexmarkConfig()
        self.inter_event_delay_us = 1_000_000.0 / events_per_second
        c = self.config
        longest = max(c.avg_person_byte_size, c.avg_auction_byte_size, c.avg_bid_byte_size, 100)
        pool_bytes = _POOL_OFFSETS + 2 * longest
        self._letters = self._random_bytes(b"pool-letters", pool_bytes).translate(_LETTERS).decode("ascii")
        self._spaced = self._random_bytes(b"pool-spaced", pool_bytes).translate(_SPACED).decode("ascii")
        self._hot = [(name, self._base_url(-1 - i)) for i, name in enumerate(HOT_CHANNELS)]
        self._channels: dict[int, tuple[str, str]] = {}
        self._block = -1
        self._words: tuple[int, ...] = ()

    # -- randomness ----------------------------------------------------------------------------------------------

    def _random_bytes(self, purpose: bytes, n: int, index: int = 0) -> bytes:
        key = b"yflink-nexmark/%s/%d/%d" % (purpose, self.seed, index)
        return hashlib.shake_128(key).digest(n)

    def _block_words(self, block: int) -> tuple[int, ...]:
        """The random 64-bit words of events ``block * 1024 ... block * 1024 + 1023``, 4 per event."""
        if block != self._block:
            n = BLOCK_EVENTS * WORDS_PER_EVENT
            self._words = struct.unpack(f"<{n}Q", self._random_bytes(b"block", 8 * n, block))
            self._block = block
        return self._words

    def _base_url(self, key: int) -> str:
        """Nexmark ``BidGenerator.getBaseUrl``: three random path segments of 3-4 characters."""
        d = self._random_bytes(b"url", 16, key)
        segments, k = [], 0
        for _ in range(3):
            length = 3 + (d[k] & 1)
            segments.append(bytes(d[k + 1:k + 1 + length]).translate(_SPACED).decode("ascii").replace(" ", "_"))
            k += 1 + length
        return "https://www.nexmark.com/" + "/".join(segments) + "/item.htm?query=1"

    def _channel(self, number: int) -> tuple[str, str]:
        """Nexmark ``BidGenerator.getNextChannelAndurl``: 9 in 10 channels' URLs carry a channel id."""
        url = self._base_url(number)
        if self._random_bytes(b"channel", 1, number)[0] % 10 > 0:
            url += f"&channel_id={_reverse_int32(number)}"
        self._channels[number] = value = (f"channel-{number}", url)
        return value

    # -- events --------------------------------------------------------------------------------------------------

    def timestamp(self, index: int) -> int:
        """Event time of event ``index``, ms since the epoch (Nexmark ``timestampForEvent``)."""
        return self.first_event_time_ms + int(index * self.inter_event_delay_us) // 1000

    def generate(self, start: int, stop: int, step: int = 1) -> tuple[list[Event], list[int]]:
        """The events with indices ``range(start, stop, step)`` and their event times (ms), in that order."""
        c = self.config
        P, A, T = c.person_proportion, c.auction_proportion, c.total_proportion
        PA, A1, P1 = P + A, A - 1, P - 1
        base, delay = self.first_event_time_ms, self.inter_event_delay_us
        # A 16-bit draw d gives nextInt(ratio) = (d * ratio) >> 16, which is > 0 exactly when d >= ceil(2^16 / ratio).
        hot_auction_min, hot_bidder_min = -(-65536 // c.hot_auction_ratio), -(-65536 // c.hot_bidders_ratio)
        in_flight, active_people = c.num_in_flight_auctions, c.num_active_people
        bid_min, bid_span = _extra_size(8 * 4, c.avg_bid_byte_size)
        letters, hot, channels = self._letters, self._hot, self._channels
        new = tuple.__new__
        price_scale = _PRICE_SCALE
        events: list[Any] = []
        append_event = events.append
        if delay.is_integer():
            d = int(delay)
            timestamps = [base + n * d // 1000 for n in range(start, stop, step)]
        else:
            timestamps = [base + int(n * delay) // 1000 for n in range(start, stop, step)]
        ts_iter = iter(timestamps)
        n = start
        while n < stop:
            # One block of random words at a time: events n ... block_stop - 1 of this call.
            words = self._block_words(n >> 10)
            block_stop = min(stop, ((n >> 10) + 1) << 10)
            block_range = range(n, block_stop, step)
            n = block_range[-1] + step
            for i, ts in zip(block_range, ts_iter, strict=False):  # ts_iter runs on to later blocks
                j = (i & 1023) << 2
                w0 = words[j]
                epoch = i // T
                offset = i - epoch * T
                if offset < PA:
                    w1, w2, w3 = words[j + 1], words[j + 2], words[j + 3]
                    append_event(self._person(i, epoch, offset, ts, w0, w1, w2, w3) if offset < P
                                 else self._auction(i, epoch, offset, ts, w0, w1, w2, w3))
                    continue
                # A bid (Nexmark BidGenerator.nextBid); the last person/auction are those of this epoch.
                w1, w2, w3 = words[j + 1], words[j + 2], words[j + 3]
                last_auction = epoch * A + A1
                if w0 & _M16 >= hot_auction_min:
                    auction = (last_auction // HOT_BATCH) * HOT_BATCH
                else:
                    low = last_auction - in_flight if last_auction > in_flight else 0
                    auction = low + (((w1 & _M32) * (last_auction - low + 1 + ID_LEAD)) >> 32)
                last_person = epoch * P + P1
                if (w0 >> 16) & _M16 >= hot_bidder_min:
                    bidder = (last_person // HOT_BATCH) * HOT_BATCH + 1
                else:
                    people = last_person + 1
                    active = min(active_people, people)
                    bidder = people - active + (((w1 >> 32) * (active + ID_LEAD)) >> 32)
                price = int(10.0 ** ((w2 & _M32) * price_scale) * 100.0 + 0.5)
                if (w0 >> 32) & 0x8000:
                    channel, url = hot[(w0 >> 48) & 3]
                else:
                    number = ((w2 >> 32) * CHANNELS_NUMBER) >> 32
                    channel, url = channels.get(number) or self._channel(number)
                o = (w3 >> 32) & _M16
                append_event(new(Bid, (auction + FIRST_AUCTION_ID, bidder + FIRST_PERSON_ID, price, channel, url,
                                       ts, letters[o:o + bid_min + (((w3 & _M32) * bid_span) >> 32)])))
        return events, timestamps

    def _string(self, max_length: int, draw_length: int, draw_offset: int) -> str:
        """Nexmark ``StringsGenerator.nextString``: 3 to ``max_length - 1`` characters, ~1 in 13 a space,
        trimmed. Draws are 16-bit."""
        length = 3 + ((draw_length * (max_length - 3)) >> 16)
        return self._spaced[draw_offset:draw_offset + length].strip()

    def _extra(self, current_size: int, average_size: int, draw_size: int, draw_offset: int) -> str:
        """Nexmark ``StringsGenerator.nextExtra``. Draws are 16-bit."""
        low, span = _extra_size(current_size, average_size)
        size = low + ((draw_size * span) >> 16)
        return self._letters[draw_offset:draw_offset + size]

    def _person_id(self, last_person: int, draw16: int) -> int:
        """Nexmark ``PersonGenerator.nextBase0PersonId``: a recent person or one up to 10 ahead (base 0)."""
        people = last_person + 1
        active = min(people, self.config.num_active_people)
        return people - active + ((draw16 * (active + ID_LEAD)) >> 16)

    def _person(self, n: int, epoch: int, offset: int, ts: int, w0: int, w1: int, w2: int, w3: int) -> Person:
        """Nexmark ``PersonGenerator.nextPerson``."""
        c = self.config
        name = FIRST_NAMES[((w0 & _M16) * 11) >> 16] + " " + LAST_NAMES[(((w0 >> 16) & _M16) * 9) >> 16]
        email = (self._string(7, (w0 >> 32) & _M16, w0 >> 48) + "@"
                 + self._string(5, w1 & _M16, (w1 >> 16) & _M16) + ".com")
        card = (f"{(((w1 >> 32) & _M16) * 10000) >> 16:04d} {((w1 >> 48) * 10000) >> 16:04d} "
                f"{((w2 & _M16) * 10000) >> 16:04d} {(((w2 >> 16) & _M16) * 10000) >> 16:04d}")
        city = US_CITIES[(((w2 >> 32) & _M16) * len(US_CITIES)) >> 16]
        state = US_STATES[((w2 >> 48) * len(US_STATES)) >> 16]
        size = 8 + len(name) + len(email) + len(card) + len(city) + len(state)
        extra = self._extra(size, c.avg_person_byte_size, w3 & _M16, (w3 >> 16) & _M16)
        return Person(epoch * c.person_proportion + offset + FIRST_PERSON_ID, name, email, card, city, state, ts,
                      extra)

    def _auction(self, n: int, epoch: int, offset: int, ts: int, w0: int, w1: int, w2: int, w3: int) -> Auction:
        """Nexmark ``AuctionGenerator.nextAuction``."""
        c = self.config
        last_person = epoch * c.person_proportion + c.person_proportion - 1
        if ((w0 & _M16) * c.hot_sellers_ratio) >> 16:
            seller = (last_person // HOT_BATCH) * HOT_BATCH
        else:
            seller = self._person_id(last_person, (w0 >> 16) & _M16)
        category = FIRST_CATEGORY_ID + ((((w0 >> 32) & _M16) * NUM_CATEGORIES) >> 16)
        initial_bid = int(10.0 ** ((w1 & _M32) * _PRICE_SCALE) * 100.0 + 0.5)
        # Auction length: random, averaging the time until num_in_flight_auctions more auctions exist.
        events_for_auctions = (c.num_in_flight_auctions * c.total_proportion) // c.auction_proportion
        horizon = self.timestamp(n + events_for_auctions) - ts
        expires = ts + 1 + (((w1 >> 32) * max(horizon * 2, 1)) >> 32)
        name = self._string(20, w2 & _M16, (w2 >> 16) & _M16)
        description = self._string(100, (w2 >> 32) & _M16, w2 >> 48)
        reserve = initial_bid + int(10.0 ** ((w3 & _M32) * _PRICE_SCALE) * 100.0 + 0.5)
        size = 8 + len(name) + len(description) + 8 * 5
        extra = self._extra(size, c.avg_auction_byte_size, (w3 >> 32) & _M16, w3 >> 48)
        auction_id = epoch * c.auction_proportion + offset - c.person_proportion + FIRST_AUCTION_ID
        return Auction(auction_id, name, description, initial_bid, reserve, ts, expires, seller + FIRST_PERSON_ID,
                       category, extra)
