package gate

// Observers is an Observer that tells each of its observers in turn
// (metrics, the live event stream, ...). Each must not block, like any
// Observer.
type Observers []Observer

var _ Observer = Observers(nil)

// CallStarted implements Observer.
func (os Observers) CallStarted(source string) {
	for _, o := range os {
		o.CallStarted(source)
	}
}

// LockoutSet implements LockoutObserver: it tells the observers that
// implement it.
func (os Observers) LockoutSet(l *Lockout) {
	for _, o := range os {
		if lo, ok := o.(LockoutObserver); ok {
			lo.LockoutSet(l)
		}
	}
}

// CallFinished implements Observer.
func (os Observers) CallFinished(r *CallRecord) {
	for _, o := range os {
		o.CallFinished(r)
	}
}
