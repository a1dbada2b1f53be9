// Promoter (推广员) pages in src/pkg-promoter/. Keys: promoter.<area>.<name>.
// The merchant may rename 推广员 (store.promoter_name in the store config): pass it as {name}.
export default {
  defaultName: '推广员', // when the store config names none
  centre: {
    title: '{name}中心',
    intro: '分享好物，好友下单后获得佣金',
  },
}
