package teamsync_test

import (
	"log/slog"
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/groups/teamsync/teamsynctest"
)

var quietLogger = slog.New(slog.DiscardHandler)

func TestMemoryStore(t *testing.T) {
	teamsynctest.Run(t, func(t *testing.T) teamsync.Store { return teamsync.NewMemoryStore() })
}
