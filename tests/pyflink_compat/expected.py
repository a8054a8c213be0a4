"""What PyFlink prints for its own DataStream examples (``flink-python/pyflink/examples/datastream``), run without
arguments. Used by ``tests/integration/test_pyflink_compat.py`` when ``YFLINK_PYFLINK_EXAMPLES`` points at them.

Derived from Flink's documented semantics ("Windows", "Process Function", "Working with State") and the
examples' own comments, not from a PyFlink run: Flink's Java print sink shows ``Types.TUPLE`` as ``(a,b)`` and
``Types.ROW`` as ``+I[a, b]``; PyFlink prints values without a declared type with Python's ``str()``.

Unconfirmed: ``event_time_timer.py`` assumes the bounded-out-of-orderness watermark passes no timer before the
8-element collection ends (every timer then fires at the final watermark and sees the final sums); PyFlink's
periodic watermark (every 200 ms) could in principle fire some earlier on a slow machine.
"""

from __future__ import annotations

_PRINTING = "Printing result to stdout. Use --output to specify output path."

#: Word counts of the Hamlet lines built into ``word_count.py`` (BATCH: one final count per word).
_HAMLET_COUNTS = [
    "(To,4)", "(be,,1)", "(or,1)", "(not,2)", "(to,7)", "(be,--that,1)",
    "(is,2)", "(the,15)", "(question:--,1)", "(Whether,1)", "('tis,1)", "(nobler,1)",
    "(in,3)", "(mind,1)", "(suffer,1)", "(The,7)", "(slings,1)", "(and,7)",
    "(arrows,1)", "(of,14)", "(outrageous,1)", "(fortune,1)", "(Or,1)", "(take,1)",
    "(arms,1)", "(against,1)", "(a,5)", "(sea,1)", "(troubles,,1)", "(And,5)",
    "(by,2)", "(opposing,1)", "(end,2)", "(them?--To,1)", "(die,--to,2)", "(sleep,--,1)",
    "(No,2)", "(more;,1)", "(sleep,2)", "(say,1)", "(we,4)", "(heartache,,1)",
    "(thousand,1)", "(natural,1)", "(shocks,1)", "(That,3)", "(flesh,1)", "(heir,1)",
    "(to,--'tis,1)", "(consummation,1)", "(Devoutly,1)", "(be,1)", "(wish'd.,1)", "(sleep;--,1)",
    "(sleep!,1)", "(perchance,1)", "(dream:--ay,,1)", "(there's,2)", "(rub;,1)", "(For,2)",
    "(that,3)", "(death,1)", "(what,1)", "(dreams,1)", "(may,1)", "(come,,1)",
    "(When,2)", "(have,2)", "(shuffled,1)", "(off,1)", "(this,2)", "(mortal,1)",
    "(coil,,1)", "(Must,1)", "(give,1)", "(us,3)", "(pause:,1)", "(respect,1)",
    "(makes,2)", "(calamity,1)", "(so,1)", "(long,1)", "(life;,1)", "(who,2)",
    "(would,2)", "(bear,2)", "(whips,1)", "(scorns,1)", "(time,,1)", "(oppressor's,1)",
    "(wrong,,1)", "(proud,1)", "(man's,1)", "(contumely,,1)", "(pangs,1)", "(despis'd,1)",
    "(love,,1)", "(law's,1)", "(delay,,1)", "(insolence,1)", "(office,,1)", "(spurns,1)",
    "(patient,1)", "(merit,1)", "(unworthy,1)", "(takes,,1)", "(he,1)", "(himself,1)",
    "(might,1)", "(his,1)", "(quietus,1)", "(make,2)", "(With,2)", "(bare,1)",
    "(bodkin?,1)", "(these,1)", "(fardels,1)", "(bear,,1)", "(grunt,1)", "(sweat,1)",
    "(under,1)", "(weary,1)", "(life,,1)", "(But,1)", "(dread,1)", "(something,1)",
    "(after,1)", "(death,--,1)", "(undiscover'd,1)", "(country,,1)", "(from,1)", "(whose,1)",
    "(bourn,1)", "(traveller,1)", "(returns,--puzzles,1)", "(will,,1)", "(rather,1)", "(those,1)",
    "(ills,1)", "(Than,1)", "(fly,1)", "(others,1)", "(know,1)", "(of?,1)",
    "(Thus,1)", "(conscience,1)", "(does,1)", "(cowards,1)", "(all;,1)", "(thus,1)",
    "(native,1)", "(hue,1)", "(resolution,1)", "(Is,1)", "(sicklied,1)", "(o'er,1)",
    "(with,1)", "(pale,1)", "(cast,1)", "(thought;,1)", "(enterprises,1)", "(great,1)",
    "(pith,1)", "(moment,,1)", "(regard,,1)", "(their,1)", "(currents,1)", "(turn,1)",
    "(awry,,1)", "(lose,1)", "(name,1)", "(action.--Soft,1)", "(you,1)", "(now!,1)",
    "(fair,1)", "(Ophelia!--Nymph,,1)", "(thy,1)", "(orisons,1)", "(Be,1)", "(all,1)",
    "(my,1)", "(sins,1)", "(remember'd.,1)",
]

#: example path (relative to ``examples/datastream``) -> the lines it prints, in any order.
PYFLINK_EXAMPLES: dict[str, list[str]] = {
    "word_count.py": ["Executing word_count example with default input data set.",
                      "Use --input to specify file input.", _PRINTING, *_HAMLET_COUNTS],
    "state_access.py": ["('Alice', 110.1)", "('Bob', 30.2)", "('Alice', 130.1)", "('Bob', 83.3)", "('Alice', 143.2)",
                        "('Bob', 86.39999999999999)", "('Bob', 102.5)", "('Alice', 163.29999999999998)"],
    "event_time_timer.py": ["('Alice', 163.29999999999998)"] * 4 + ["('Bob', 102.5)"] * 4,
    "process_json_data.py": [
        "(2, {'name': 'hello', 'tel': 136, 'addr': {'country': 'China', 'city': 'Shanghai'}})",
        "(4, {'name': 'PyFlink', 'tel': 33, 'addr': {'country': 'China', 'city': 'Hangzhou'}})"],
    "basic_operations.py": [  # three jobs: map, filter + map, key_by + reduce (the example's comments)
        '(1, \'{"name": "Flink", "tel": 124, "addr": {"country": "Germany", "city": "Berlin"}}\')',
        '(2, \'{"name": "hello", "tel": 136, "addr": {"country": "China", "city": "Shanghai"}}\')',
        '(3, \'{"name": "world", "tel": 125, "addr": {"country": "USA", "city": "NewYork"}}\')',
        '(4, \'{"name": "PyFlink", "tel": 33, "addr": {"country": "China", "city": "Hangzhou"}}\')',
        '(1, \'{"name": "Flink", "tel": 124, "addr": {"country": "Germany", "city": "Berlin"}}\')',
        "('Germany', 123)", "('China', 135)", "('USA', 124)", "('China', 167)"],
    # ts 1 2 3 4 5 8 9 15, tumbling 5 ms: [0,5) 4, [5,10) 3, [15,20) 1
    "windowing/tumbling_time_window.py": [_PRINTING, "(hi,0,5,4)", "(hi,5,10,3)", "(hi,15,20,1)"],
    # size 5 every 2: each window [s, s+5) with s even and an element in it
    "windowing/sliding_time_window.py": [_PRINTING, "(hi,-2,3,2)", "(hi,0,5,4)", "(hi,2,7,4)", "(hi,4,9,3)",
                                         "(hi,6,11,2)", "(hi,8,13,2)", "(hi,12,17,1)", "(hi,14,19,1)"],
    # ts 1 2 3 4 8 9 15, gap 5: [1,14) (windows that touch merge) and [15,20)
    "windowing/session_with_gap_window.py": [_PRINTING, "(hi,1,14,6)", "(hi,15,20,1)"],
    # gap = the element's own timestamp: [1,2) [2,4) [3,6) [4,8) merge to [1,8); [9,18) x2 [15,30) to [9,30)
    "windowing/session_with_dynamic_gap_window.py": [_PRINTING, "(hi,1,8,4)", "(hi,9,30,3)"],
    # count windows of 3 per key: hi 1+3+5; hello 2+4+6 (the fourth hello waits for two more)
    "windowing/tumbling_count_window.py": [_PRINTING, "(hi,9)", "(hello,12)"],
    # ContinuousEventTimeTrigger(5) in [0,10): fires at 5 and at the window's max timestamp 9; [10,20) at 19
    "windowing/tumbling_time_window_with_continuous_trigger.py": [_PRINTING, "(hi,0,10,7)", "(hi,0,10,7)",
                                                                  "(hi,10,20,1)"],
}
