export default {
  defaultName: 'Promoter', // when the store config names none
  centre: {
    title: '{name} centre',
    intro: 'Share products and earn commission when friends buy',
  },
}
