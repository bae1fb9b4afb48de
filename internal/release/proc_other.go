//go:build !unix

package main

import "os/exec"

// setProcessGroup does nothing where process groups do not exist.
func setProcessGroup(*exec.Cmd) {}

// stopProcessGroup kills cmd: without signals there is no graceful stop.
func stopProcessGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// killProcessGroup kills cmd.
func killProcessGroup(cmd *exec.Cmd) { _ = cmd.Process.Kill() }

// terminatedBySignal reports true: the process was killed.
func terminatedBySignal(*exec.ExitError) bool { return true }

// lockDir does not lock where flock does not exist: run one rehearsal at a
// time.
func lockDir(string) (func(), error) { return func() {}, nil }
