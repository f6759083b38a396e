package ari

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SetDeviceState sets the state (NOT_INUSE, INUSE, BUSY, ONHOLD, ...) of a
// device that a BLF hint can watch. A "Stasis:NAME" device is ARI's own
// (PUT /deviceStates/{device}; res_ari_device_states). Any other device,
// such as "Custom:NAME", is set through the DEVICE_STATE() dialplan
// function as a global variable (POST /asterisk/variable;
// func_devstate): Asterisk answers PUT /deviceStates/Custom:... with 409
// "Uncontrolled device specified".
func (c *Client) SetDeviceState(ctx context.Context, device, state string) error {
	if strings.HasPrefix(device, "Stasis:") {
		return c.do(ctx, request{op: "set device state", method: http.MethodPut, path: "/deviceStates/" + url.PathEscape(device),
			query: url.Values{"deviceState": {state}}}, nil)
	}
	q := url.Values{"variable": {"DEVICE_STATE(" + device + ")"}, "value": {state}}
	return c.do(ctx, request{op: "set device state", method: http.MethodPost, path: "/asterisk/variable", query: q}, nil)
}

// DeviceState returns the state of a device (GET /deviceStates/{device};
// any device, "UNKNOWN" for one nobody set).
func (c *Client) DeviceState(ctx context.Context, device string) (string, error) {
	var v struct {
		State string `json:"state"`
	}
	err := c.do(ctx, request{op: "get device state", method: http.MethodGet, path: "/deviceStates/" + url.PathEscape(device)}, &v)
	return v.State, err
}

// SetDeviceState sets a device's state on every server of the App (see
// Client.SetDeviceState); the errors of the servers that failed are
// joined, each naming its server.
func (a *App) SetDeviceState(ctx context.Context, device, state string) error {
	var errs []error
	for _, s := range a.servers {
		if err := s.client.SetDeviceState(ctx, device, state); err != nil {
			errs = append(errs, fmt.Errorf("ari: server %s: %w", s.cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}
