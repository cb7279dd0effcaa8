import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { ControlButtons } from "@point_of_sale/app/screens/product_screen/control_buttons/control_buttons";
import { PayOutPopup } from "@customer_credit/app/pay_out_popup/pay_out_popup";

patch(ControlButtons.prototype, {
    /**
     * "Pay out credit": the selected customer's credit paid out in cash (a cash out of the
     * session). Needs a customer and the network; the server says how much may be paid out and
     * whether this cashier may do it.
     */
    async clickCustomerCreditPayOut() {
        const title = _t("Pay Out Credit");
        const partner = this.pos.get_order()?.get_partner();
        if (!partner) {
            this.dialog.add(AlertDialog, {
                title,
                body: _t("Select the customer whose credit is paid out first."),
            });
            return;
        }
        if (this.pos.data.network.offline) {
            this.dialog.add(AlertDialog, {
                title,
                body: _t("Credit cannot be paid out while the till is offline: try again when it is back online."),
            });
            return;
        }
        let info;
        try {
            info = await this.pos.data.call("pos.session", "customer_credit_pay_out_info", [
                [this.pos.session.id],
                partner.id,
            ]);
        } catch (error) {
            this.dialog.add(AlertDialog, { title, body: this.pos.getCustomerCreditErrorMessage(error) });
            return;
        }
        if (!(info.payable > 0)) {
            this.dialog.add(AlertDialog, {
                title,
                body: _t("%s has no credit that can be paid out (product credit and overdrafts are never paid out).", info.partner_name),
            });
            return;
        }
        this.dialog.add(PayOutPopup, { partner, payable: info.payable });
    },
});
