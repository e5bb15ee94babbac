"""Demo activity: a month of whistles and their handling, so that `make run` opens on living pages.

`seed_demo` (departments.demo) builds the demo district with nobody at work
in it. `demo_activity_seed` adds the work: about 150 whistles across the
streets and the catalogue, raised and handled by the demo users through the
services the web form, the hotline API and the workbenches call — intake
and the party office's approval chain, the routing run, acknowledge, check
in, progress notes, extensions, returns and manual dispatch, joint
meetings, close with feedback, confirm, rate and callback — and the beat's
deadline sweep and dashboard tally.

The demo replays the past month's work through the same services. Every
service takes `now=` (STYLE.md, rule 3) and reads no other clock: the
deadlines (counted from it by escalation.policy on the work calendar), the
events, the notices and the frozen on-time facts all come from the moment
it is given. So no clock is patched and no fact is made up. Each whistle's
story (escalation.demo.stories) is a script of service calls at moments of
the past month; the steps of all stories are played in time order, each
call given its moment as `now`, and before a step the deadline sweep runs
at that moment as the beat would have run it, so warnings, overdues,
supervision orders and accountability records appear when they would have.
Every story stops before the present: what it has not done yet is what the
workbenches show as waiting.

Random choices are seeded: every run tells the same stories, ending at the
moment it runs. Everything happens in one transaction: a failure leaves no
half-built demo, and the routing and mail runs that the services call for
on commit are called once, at the end (the routing run then finds nothing
waiting; the demo users have no e-mail addresses).

It lives in the escalation app because it runs the sweep: whistle must not
import escalation (tests/test_architecture.py).

- world.py: who and where (the district's streets, places, catalogue and demo users)
- stories.py: one story per whistle, planned before anything is written
- texts.py: the words (what residents report, what departments answer)
- replay.py: playing the stories, the sweeps between them, the summary
"""

from escalation.demo.replay import DEFAULT_COUNT, DemoActivityResult, demo_activity_seed

__all__ = ["DEFAULT_COUNT", "DemoActivityResult", "demo_activity_seed"]
