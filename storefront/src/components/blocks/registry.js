// THE block registry: block type (as in the store config) → component.
// Add a block type: write XxxBlock.vue here, add its import and ONE line to BLOCKS, then
// `npm run gen:blocks` (the build scripts run it too; `npm test` fails if it was forgotten).
//
// H5 renders through this object directly (<component :is="BLOCKS[type]">). uni-app's
// mini-program compiler refuses dynamic components ("<component is/> is not supported"), so for
// mini-programs tools/gen-block-switch.cjs writes BlockSwitch.vue from this file. Keep the
// format below (one `import X from './X.vue'` per line, one `type: X,` per line): the generator
// reads it as text.
import BannerBlock from './BannerBlock.vue'
import CampaignBlock from './CampaignBlock.vue'
import CategoryNavBlock from './CategoryNavBlock.vue'
import CouponStripBlock from './CouponStripBlock.vue'
import ImageBlock from './ImageBlock.vue'
import MemberCardBlock from './MemberCardBlock.vue'
import NoticeBlock from './NoticeBlock.vue'
import ProductGridBlock from './ProductGridBlock.vue'
import ProductListBlock from './ProductListBlock.vue'
import PromoterEntryBlock from './PromoterEntryBlock.vue'
import RichTextBlock from './RichTextBlock.vue'
import RulesFooterBlock from './RulesFooterBlock.vue'
import SearchBlock from './SearchBlock.vue'
import SpacerBlock from './SpacerBlock.vue'
import TravelRouteBlock from './TravelRouteBlock.vue'
import VideoBlock from './VideoBlock.vue'

export const BLOCKS = {
  banner: BannerBlock,
  notice: NoticeBlock,
  search: SearchBlock,
  category_nav: CategoryNavBlock,
  product_grid: ProductGridBlock,
  product_list: ProductListBlock,
  coupon_strip: CouponStripBlock,
  campaign: CampaignBlock,
  member_card: MemberCardBlock,
  promoter_entry: PromoterEntryBlock,
  rich_text: RichTextBlock,
  image: ImageBlock,
  video: VideoBlock,
  spacer: SpacerBlock,
  travel_route: TravelRouteBlock,
  rules_footer: RulesFooterBlock,
}

export function isKnownBlock(type) {
  return typeof type === 'string' && Object.prototype.hasOwnProperty.call(BLOCKS, type)
}
