package arifake

import (
	"net/http"
	"strings"
)

// deviceStates answers the device-state requests vipgate sends, as
// Asterisk 22 does: PUT /deviceStates/{name} only for "Stasis:" devices
// (409 "Uncontrolled device specified" otherwise), GET for any device
// ("UNKNOWN" when never set), and the DEVICE_STATE() function written and
// read as a global variable (POST/GET /asterisk/variable). It reports
// whether it handled the request.
func (s *Server) deviceStates(w http.ResponseWriter, r *http.Request, path string) bool {
	q := r.Form
	if name, ok := strings.CutPrefix(path, "/deviceStates/"); ok && name != "" {
		switch r.Method {
		case http.MethodGet:
			writeJSON(w, 200, map[string]string{"name": name, "state": s.DeviceState(name)})
		case http.MethodPut:
			if !strings.HasPrefix(name, "Stasis:") {
				writeErr(w, 409, "Uncontrolled device specified")
				return true
			}
			st := q.Get("deviceState")
			if !validDeviceState(st) {
				writeErr(w, 400, "Invalid device state")
				return true
			}
			s.setDeviceState(name, st)
			w.WriteHeader(204)
		default:
			return false
		}
		return true
	}
	if path != "/asterisk/variable" {
		return false
	}
	dev, isDev := strings.CutPrefix(q.Get("variable"), "DEVICE_STATE(")
	dev, closed := strings.CutSuffix(dev, ")")
	if !isDev || !closed || !strings.HasPrefix(dev, "Custom:") {
		writeErr(w, 400, "fake: only DEVICE_STATE(Custom:...) globals are supported")
		return true
	}
	switch r.Method {
	case http.MethodPost:
		// func_devstate takes an unknown state as UNKNOWN.
		st := q.Get("value")
		if !validDeviceState(st) {
			st = "UNKNOWN"
		}
		s.setDeviceState(dev, st)
		w.WriteHeader(204)
	case http.MethodGet:
		writeJSON(w, 200, map[string]string{"value": s.DeviceState(dev)})
	default:
		return false
	}
	return true
}

func validDeviceState(st string) bool {
	switch st {
	case "NOT_INUSE", "INUSE", "BUSY", "INVALID", "UNAVAILABLE", "RINGING", "RINGINUSE", "ONHOLD":
		return true
	}
	return false
}

func (s *Server) setDeviceState(name, state string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.devices == nil {
		s.devices = map[string]string{}
	}
	s.devices[name] = state
	s.deviceLog = append(s.deviceLog, name+"="+state)
}

// DeviceState returns a device's state: "UNKNOWN" when nothing set it.
// A channel's DEVICE_STATE(...) variable is not seen here (it is the
// channel's variable in the fake).
func (s *Server) DeviceState(name string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.devices[name]; ok {
		return st
	}
	return "UNKNOWN"
}

// DeviceChanges returns every device-state change so far as
// "name=STATE", in order.
func (s *Server) DeviceChanges() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.deviceLog...)
}
