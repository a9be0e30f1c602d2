package teamsync_test

import (
	"testing"

	"github.com/samlgate/samlgate/groups/teamsync"
	"github.com/samlgate/samlgate/groups/teamsync/teamsynctest"
)

func TestMemoryStore(t *testing.T) {
	teamsynctest.Run(t, func(t *testing.T) teamsync.Store { return teamsync.NewMemoryStore() })
}
