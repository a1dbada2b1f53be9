import { createSSRApp } from 'vue'

import App from './App.vue'
import i18n from './i18n/index.js'

export function createApp() {
  const app = createSSRApp(App)
  app.use(i18n)
  app.config.errorHandler = (err, instance, info) => {
    // never a white screen for one bad component: log it and keep rendering the rest
    console.error('[app]', info, err)
  }
  return { app }
}
