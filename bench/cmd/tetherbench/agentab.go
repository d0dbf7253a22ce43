package main

import (
	"context"
)

// benchAgentAB compares this run's agent with another agent binary
// (BENCH_AGENT_B) on the same relay, interleaved: terminal throughput and
// keystroke echo. It is how a change to the agent is measured on a
// machine too noisy for separate runs to compare.
func benchAgentAB(ctx context.Context, cfg *config, te *tetherEnv, t *table) error {
	if cfg.agentB == "" {
		return nil
	}
	agentB, err := te.startAgent(ctx, "dev-b", cfg.agentB)
	if err != nil {
		return err
	}
	ca0, _ := cpuTime(te.agent.PID())
	cb0, _ := cpuTime(agentB.PID())
	cmd := throughputCmd(cfg.termBytes)
	a := &contender{name: "agent A (this build)", argv: te.techArgv("-t", "--", cmd)}
	b := &contender{name: "agent B (" + cfg.agentB + ")", argv: te.techArgvFor("dev-b", "-t", "--", cmd)}
	// Whichever runs first in a round has been seen to win by a third on
	// a loaded machine, so the order alternates.
	for i := range cfg.termRuns {
		order := []*contender{a, b}
		if i%2 == 1 {
			order = []*contender{b, a}
		}
		if err := termThroughputs(order, cfg.termBytes, 1); err != nil {
			return err
		}
	}
	ca1, _ := cpuTime(te.agent.PID())
	cb1, _ := cpuTime(agentB.PID())
	mib := float64(cfg.termBytes>>20) * float64(cfg.termRuns)
	t.note("agent A/B: agent CPU per MiB of terminal output %.2f vs %.2f ms", float64((ca1-ca0).Microseconds())/1e3/mib,
		float64((cb1-cb0).Microseconds())/1e3/mib)
	logf("%s", t.notes[len(t.notes)-1])
	all, err := termEchoes([][]string{te.techArgv("-t", "--", echoCmd), te.techArgvFor("dev-b", "-t", "--", echoCmd)}, cfg.echoN)
	if err != nil {
		return err
	}
	t.note("agent A/B: terminal %.1f vs %.1f MB/s (B ÷ A %.2f×); echo p50 %s vs %s, p99 %s vs %s (%d round trips each, interleaved)",
		a.best, b.best, b.best/a.best, us(pct(all[0], 50)), us(pct(all[1], 50)), us(pct(all[0], 99)), us(pct(all[1], 99)), cfg.echoN)
	logf("%s", t.notes[len(t.notes)-1])
	return nil
}
