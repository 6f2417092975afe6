"""Cost of event-driven runs (``heron.scheduling``) against synchronous steps in the same process.

Every room runs the proportional controller with the issue's timing
(tick 1, observation delay 0.1, action delay 0.2, 10 % gaussian jitter);
the simulation steps once per time unit. Tables:

1. the two-room and 100-room envs: events per second, cost per event, and
   the ratio of one event's cost to one synchronous step (policies + ``env.step``)
   and of one simulated time unit (the same work as one step) to one step;
2. 2, 10, 100 and 1000 rooms: cost per event and per agent per time unit
   (linear processing means both stay flat).

    python benchmarks/event_driven.py [--quick]
"""

from __future__ import annotations

import argparse
import statistics
import time

from common import alternating_times, machine, markdown_table, median_ratio

from heron.demo_envs.thermostat import ProportionalController
from heron.scheduling import JitterType, ScheduleConfig
from heron.scheduling.runner import EventDrivenRun
from heron.training import make_env

SCHEDULE = ScheduleConfig.with_jitter(
    tick_interval=1.0, obs_delay=0.1, act_delay=0.2, jitter_type=JitterType.GAUSSIAN, jitter_ratio=0.1
)


def make(num_rooms: int):
    env = make_env("thermostat", num_rooms=num_rooms, max_steps=10**9)
    return env, {aid: ProportionalController() for aid in env.possible_agents}


def event_driven(num_rooms: int, t_end: float) -> tuple[float, float, int]:
    """(setup seconds, processing seconds, events) of one event-driven run of ``t_end`` time units."""
    env, policies = make(num_rooms)
    env.reset(seed=0, jitter_seed=0)
    start = time.perf_counter()
    run = EventDrivenRun(env, policies, t_end, schedule=SCHEDULE)
    built = time.perf_counter()
    stats = run.run()
    return built - start, time.perf_counter() - built, stats.num_events


def sync_step_seconds(num_rooms: int, steps: int) -> float:
    """Seconds per synchronous step, the policies' forward calls included."""
    env, policies = make(num_rooms)
    observations, _ = env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(steps):
        observations, *_ = env.step({aid: policies[aid].forward(observations[aid]) for aid in env.agents})
    return (time.perf_counter() - start) / steps


def measure(num_rooms: int, units: int, repeats: int) -> dict[str, float]:
    """Event-driven runs and synchronous steps of the same env, taken in turn."""
    runs, steps = alternating_times(
        lambda: event_driven(num_rooms, float(units)), lambda: sync_step_seconds(num_rooms, units), repeats=repeats
    )
    seconds = [run_seconds for _, run_seconds, _ in runs]
    events = runs[0][2]
    return {"rooms": num_rooms, "units": units, "events": events, "seconds": statistics.median(seconds),
            "event": statistics.median(seconds) / events, "unit": statistics.median(seconds) / units,
            "step": statistics.median(steps), "setup": statistics.median(setup for setup, _, _ in runs),
            "event_ratio": median_ratio([s / events for s in seconds], steps),
            "unit_ratio": median_ratio([s / units for s in seconds], steps)}


def report(quick: bool = False) -> str:
    budget, repeats = (20_000, 3) if quick else (100_000, 5)
    results = {rooms: measure(rooms, max(20, budget // (3 * rooms + 2)), repeats) for rooms in (2, 10, 100, 1000)}
    cost = markdown_table(
        ["env", "events/s", "us/event", "us/sync step", "event / sync step", "time unit / sync step"],
        [(f"{r['rooms']} rooms ({r['events']} events)", f"{r['events'] / r['seconds']:,.0f}",
          f"{r['event'] * 1e6:.2f}", f"{r['step'] * 1e6:.1f}", f"{r['event_ratio']:.3f}",
          f"{r['unit_ratio']:.2f}") for r in (results[2], results[100])],
    )
    base = results[2]
    base_agent = base["unit"] / base["rooms"]
    scaling = markdown_table(
        ["rooms", "time units", "events", "us/event", "us/event vs 2 rooms", "us/time unit/agent",
         "per-agent cost vs 2 rooms", "setup us/agent"],
        [(rooms, r["units"], r["events"], f"{r['event'] * 1e6:.2f}", f"{r['event'] / base['event']:.2f}",
          f"{r['unit'] / rooms * 1e6:.2f}", f"{r['unit'] / rooms / base_agent:.2f}",
          f"{r['setup'] / (rooms + 1) * 1e6:.0f}") for rooms, r in results.items()],
    )
    return (
        f"## Event-driven runs\n\nMachine: {machine()}. {repeats} event-driven runs and {repeats} runs of "
        "synchronous steps, in turn; medians, and medians of the per-pair ratios. Tick 1, obs delay 0.1, "
        f"act delay 0.2, gaussian jitter 10 %, one simulation step per time unit.\n\n{cost}\n\n"
        "A time unit (about 3 events per room plus one simulation step) does the work of one synchronous step; "
        "its ratio to a step is the price of the timing model.\n\n"
        "Scaling (linear processing means flat per-event and per-agent costs; setup, which derives each "
        f"agent's jitter streams, is timed apart):\n\n{scaling}\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs and fewer repeats")
    print(report(parser.parse_args().quick))


if __name__ == "__main__":
    main()
