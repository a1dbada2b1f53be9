// Every page path, in one place. Tab pages open with switchTab (which takes no query).
export const ROUTES = {
  home: '/pages/index/index',
  category: '/pages/category/index',
  cart: '/pages/cart/index',
  me: '/pages/me/index',
  product: '/pages/product/index',
  search: '/pages/search/index',
  login: '/pages/login/index',
  promoterCentre: '/pkg-promoter/centre/index',
}

export const TAB_PAGES = [ROUTES.home, ROUTES.category, ROUTES.cart, ROUTES.me]
