package gate

import (
	"errors"
	"time"
)

func (s *Schedule) inside(t time.Time) (bool, string, error) {
	return false, "", errors.New("schedule: not implemented yet")
}
