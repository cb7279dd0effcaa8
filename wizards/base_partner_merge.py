from odoo import models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _merge(self, partner_ids, dst_partner=None, extra_checks=True):
        # the merge moves the credit ledger lines of the merged customers to the one kept
        # (foreign keys); their stored balances are rebuilt from the lines
        result = super()._merge(partner_ids, dst_partner=dst_partner, extra_checks=extra_checks)
        partners = self.env["res.partner"].browse(partner_ids).exists()
        self.env["customer.credit.balance"].sudo()._rebuild(partners)
        return result
