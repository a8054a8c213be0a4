"""The Nexmark events: :class:`Person`, :class:`Auction` and :class:`Bid`.

An *event* is one of the three (``Event = Person | Auction | Bid``), not a wrapper: each class carries a class-level
``event_type`` equal to Nexmark's ``Event.Type`` value (PERSON 0, AUCTION 1, BID 2), so both styles work::

    bids = events.filter(lambda e: isinstance(e, Bid))
    bids = events.filter(lambda e: e.event_type == EventType.BID)   # Nexmark SQL: WHERE event_type = 2

Records are ``NamedTuple``s (cheap to create, pickle and compare; immutable): each class subclasses a private
``NamedTuple`` of its fields and adds ``event_type``. Field names follow the Nexmark model
(``com.github.nexmark.flink.model``) in snake_case; times are ms since the epoch (Nexmark's ``Instant``s);
prices are in cents.
"""

from __future__ import annotations

from typing import ClassVar, NamedTuple, Union


class EventType:
    """Nexmark ``Event.Type`` values."""

    PERSON = 0
    AUCTION = 1
    BID = 2


class _PersonFields(NamedTuple):
    """The fields of :class:`Person`."""

    id: int
    name: str
    email_address: str
    credit_card: str
    city: str
    state: str
    date_time: int
    extra: str


class Person(_PersonFields):
    """A new person (seller and/or bidder).

    Attributes:
        id: person id, from 1000 (Nexmark ``FIRST_PERSON_ID``).
        name: first and last name.
        email_address: ``<name>@<domain>.com``.
        credit_card: four groups of four digits.
        city: a US city.
        state: a US state code.
        date_time: event time, ms since the epoch.
        extra: padding to Nexmark's average person size (200 bytes).
    """

    __slots__ = ()

    #: Nexmark ``Event.Type`` of this event.
    event_type: ClassVar[int] = EventType.PERSON


class _AuctionFields(NamedTuple):
    """The fields of :class:`Auction`."""

    id: int
    item_name: str
    description: str
    initial_bid: int
    reserve: int
    date_time: int
    expires: int
    seller: int
    category: int
    extra: str


class Auction(_AuctionFields):
    """A new auction.

    Attributes:
        id: auction id, from 1000 (Nexmark ``FIRST_AUCTION_ID``).
        item_name: the item's name.
        description: the item's description.
        initial_bid: starting price, cents.
        reserve: reserve price, cents (above ``initial_bid``).
        date_time: event time, ms since the epoch.
        expires: when the auction ends, ms since the epoch.
        seller: the selling person's id.
        category: category id, 10..14.
        extra: padding to Nexmark's average auction size (500 bytes).
    """

    __slots__ = ()

    #: Nexmark ``Event.Type`` of this event.
    event_type: ClassVar[int] = EventType.AUCTION


class _BidFields(NamedTuple):
    """The fields of :class:`Bid`."""

    auction: int
    bidder: int
    price: int
    channel: str
    url: str
    date_time: int
    extra: str


class Bid(_BidFields):
    """A bid on an auction.

    Attributes:
        auction: the auction's id.
        bidder: the bidding person's id.
        price: the bid, cents.
        channel: where the bid came from (``Google``, ``Facebook``, ``Baidu``, ``Apple`` or ``channel-<n>``).
        url: the page the bid was made on.
        date_time: event time, ms since the epoch.
        extra: padding to Nexmark's average bid size (100 bytes).
    """

    __slots__ = ()

    #: Nexmark ``Event.Type`` of this event.
    event_type: ClassVar[int] = EventType.BID


#: A Nexmark event.
Event = Union[Person, Auction, Bid]
