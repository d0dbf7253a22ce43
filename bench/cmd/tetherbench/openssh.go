package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// sshEnv is two throwaway sshd on loopback high ports: "target" and "jump"
// (the ProxyJump hop), with throwaway host and user keys and a client
// config that trusts them. Both hops use aes256-gcm@openssh.com, the
// cipher closest to Tether's AES-256-GCM.
type sshEnv struct {
	dir    string
	config string
	target *bgProc
	jump   *bgProc
	// ports are the target's and the jump host's.
	ports [2]int
}

// startSSH writes keys and configs under dir and starts both sshd.
func startSSH(ctx context.Context, ps *procs, dir string) (*sshEnv, error) {
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd = "/usr/sbin/sshd"
		if _, err := os.Stat(sshd); err != nil {
			return nil, fmt.Errorf("sshd not found (install openssh-server)")
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	e := &sshEnv{dir: dir, config: filepath.Join(dir, "ssh_config")}
	for _, k := range []string{"hostkey", "userkey"} {
		if _, err := runOut(ctx, "", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k)); err != nil {
			return nil, err
		}
	}
	pub, err := os.ReadFile(filepath.Join(dir, "userkey.pub"))
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		return nil, err
	}
	ports := [2]int{}
	for i, name := range []string{"target", "jump"} {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
		conf := filepath.Join(dir, "sshd_"+name)
		if err := os.WriteFile(conf, []byte(sshdConfig(dir, name, ports[i])), 0o600); err != nil {
			return nil, err
		}
		p, err := ps.start(nil, sshd, "-D", "-e", "-f", conf)
		if err != nil {
			return nil, err
		}
		if name == "target" {
			e.target = p
		} else {
			e.jump = p
		}
	}
	e.ports = ports
	if err := os.WriteFile(e.config, []byte(clientConfig(dir, ports)), 0o600); err != nil {
		return nil, err
	}
	for _, port := range ports {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		if err := waitFor(10*time.Second, "sshd on "+addr, func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		}); err != nil {
			return nil, fmt.Errorf("%w\n%s%s", err, e.target.Output(), e.jump.Output())
		}
	}
	if _, err := runOut(ctx, "", "ssh", e.sshArgs(true, "true")[1:]...); err != nil {
		return nil, fmt.Errorf("ssh through the jump host: %w", err)
	}
	return e, nil
}

func sshdConfig(dir, name string, port int) string {
	return fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %[2]s/hostkey
PidFile %[2]s/sshd_%[3]s.pid
AuthorizedKeysFile %[2]s/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AllowTcpForwarding yes
PrintMotd no
PrintLastLog no
UseDNS no
LogLevel ERROR
Ciphers aes256-gcm@openssh.com
Subsystem sftp /usr/lib/openssh/sftp-server
`, port, dir, name)
}

func clientConfig(dir string, ports [2]int) string {
	return fmt.Sprintf(`Host target
  HostName 127.0.0.1
  Port %d
Host jump
  HostName 127.0.0.1
  Port %d
Host *
  User root
  IdentityFile %s/userkey
  IdentitiesOnly yes
  UserKnownHostsFile /dev/null
  StrictHostKeyChecking no
  BatchMode yes
  LogLevel ERROR
  ControlMaster no
  Ciphers aes256-gcm@openssh.com
`, ports[0], ports[1], dir)
}

// sshArgs is the argv of `ssh -tt [-J jump] target CMD`.
func (e *sshEnv) sshArgs(viaJump bool, cmd string) []string {
	a := []string{"ssh", "-F", e.config, "-tt"}
	if viaJump {
		a = append(a, "-J", "jump")
	}
	return append(a, "target", cmd)
}

// farJump is the same two sshd with the jump host and the target each
// reached through a delay proxy: the OpenSSH counterpart of a far relay,
// where both the technician's and the device's link to it are far.
type farJump struct {
	e      *sshEnv
	config string
}

// viaProxies writes a client config whose target is at 127.0.0.1:ports[0]
// and jump host at 127.0.0.1:ports[1]; the jump host, which opens the
// connection to the target for ssh -J, reaches it through its proxy too.
func (e *sshEnv) viaProxies(name string, ports [2]int) (*farJump, error) {
	f := &farJump{e: e, config: filepath.Join(e.dir, "ssh_config_"+name)}
	return f, os.WriteFile(f.config, []byte(clientConfig(e.dir, ports)), 0o600)
}

// sshArgs is the argv of `ssh -tt -J jump target CMD` through the proxy.
func (f *farJump) sshArgs(cmd string) []string {
	return []string{"ssh", "-F", f.config, "-tt", "-J", "jump", "target", cmd}
}

// scp copies one file through the far jump host.
func (f *farJump) scp(ctx context.Context, from, to string) error {
	_, err := runOut(ctx, "", "scp", "-F", f.config, "-q", "-c", "aes256-gcm@openssh.com", "-J", "jump", from, to)
	return err
}

// scp copies one file with aes256-gcm, directly or through the jump host.
func (e *sshEnv) scp(ctx context.Context, viaJump bool, from, to string) error {
	a := []string{"-F", e.config, "-q", "-c", "aes256-gcm@openssh.com"}
	if viaJump {
		a = append(a, "-J", "jump")
	}
	_, err := runOut(ctx, "", "scp", append(a, from, to)...)
	return err
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
