package bench

import (
	"context"
	"log/slog"

	"github.com/liaison-registry/liaison/internal/client"

	"google.golang.org/grpc"

	"github.com/liaison-registry/liaison/internal/app"
)

// startInProcess starts liaisond in this process on a fresh embedded
// PostgreSQL and connects a gRPC client to it, as a practice's client
// would; stop ends both.
func startInProcess(ctx context.Context) (srv *app.Running, conn *grpc.ClientConn, stop func(), err error) {
	srv, err = app.Start(ctx, app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, nil, err
	}
	conn, err = client.Dial(srv.GRPCAddr, client.Options{Key: srv.OperatorKey})
	if err != nil {
		srv.Stop() //nolint:errcheck
		return nil, nil, nil, err
	}
	return srv, conn, func() { conn.Close(); srv.Stop() }, nil //nolint:errcheck
}
