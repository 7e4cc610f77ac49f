package api

import (
	"context"
	"net"
	"syscall"
)

type peerKey struct{}

// peerCred is the unix socket client's identity, logged with mutations so
// the audit trail says who switched, not just that someone did.
type peerCred struct {
	PID, UID, GID int
}

func peerCredContext(ctx context.Context, c net.Conn) context.Context {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return ctx
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return ctx
	}
	var cred *syscall.Ucred
	var serr error
	if err := raw.Control(func(fd uintptr) {
		cred, serr = syscall.GetsockoptUcred(int(fd), syscall.SOL_SOCKET, syscall.SO_PEERCRED)
	}); err != nil || serr != nil {
		return ctx
	}
	return context.WithValue(ctx, peerKey{}, peerCred{PID: int(cred.Pid), UID: int(cred.Uid), GID: int(cred.Gid)})
}

func peerFrom(ctx context.Context) (peerCred, bool) {
	p, ok := ctx.Value(peerKey{}).(peerCred)
	return p, ok
}
