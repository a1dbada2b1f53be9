export default {
  appName: 'Fenxiao Shop',
  actions: {
    retry: 'Retry',
    more: 'More',
    viewAll: 'View all',
    confirm: 'OK',
    cancel: 'Cancel',
    back: 'Back',
    goHome: 'Back to home',
    login: 'Log in',
  },
  states: {
    loading: 'Loading…',
    empty: 'Nothing here yet',
    coming: 'Coming soon',
    noMore: 'No more',
  },
  errors: {
    network: 'Network problem, please check your connection and retry',
    timeout: 'The request timed out, please try again',
    server: 'Something went wrong on our side, please try again later',
    unknown: 'Something went wrong, please try again later',
    config: 'Could not load the store',
    noApiBase: 'The mini-program has no API address (api_base in ext.json)',
    sessionExpired: 'Your session has expired, please log in again',
    linkUnsupported: 'This link cannot be opened here; it has been copied',
  },
}
