package archive

import "context"

type actorKey struct{}

// WithActor returns a context whose journal events (and accounts
// registered) name actor instead of the archive's Options.Actor. A server
// that opened the archive once for many people passes each signed-in user
// this way, so every event records who acted, not who started the server.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorFrom returns the actor WithActor put in ctx, or "".
func ActorFrom(ctx context.Context) string {
	s, _ := ctx.Value(actorKey{}).(string)
	return s
}

// Actor is who acts in ctx, as journal events record it: the context's
// actor (WithActor), else the archive's Options.Actor.
func (a *Archive) Actor(ctx context.Context) string {
	if s := ActorFrom(ctx); s != "" {
		return s
	}
	return a.opts.Actor
}
