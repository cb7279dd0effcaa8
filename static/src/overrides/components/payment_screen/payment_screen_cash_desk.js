import { _t } from "@web/core/l10n/translation";
import { patch } from "@web/core/utils/patch";
import { AlertDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { PaymentScreen } from "@point_of_sale/app/screens/payment_screen/payment_screen";

/** A credit top-up is paid with cash, card or any other method, never with credit itself. */
patch(PaymentScreen.prototype, {
    async addNewPaymentLine(paymentMethod) {
        if (paymentMethod.is_credit_method && this.pos.getCustomerCreditTopupLines(this.currentOrder).length) {
            this._showCustomerCreditTopupRefusal("credit");
            return false;
        }
        return super.addNewPaymentLine(...arguments);
    },
    async _isOrderValid(isForceValidate) {
        const order = this.currentOrder;
        if (this.pos.getCustomerCreditTopupLines(order).length) {
            if (!order.get_partner()) {
                this._showCustomerCreditTopupRefusal("customer");
                return false;
            }
            if (this.pos.getCustomerCreditLines(order).length) {
                this._showCustomerCreditTopupRefusal("credit");
                return false;
            }
        }
        return super._isOrderValid(...arguments);
    },
    async _finalizeValidation() {
        const order = this.currentOrder;
        const partner = order.get_partner();
        // a credit payment is taken off the local balance (and the server pushes the new figures):
        // one round-trip per credit order; a top-up adds credit that only the server computes
        const toppedUp = partner && this.pos.getCustomerCreditTopupLines(order).length;
        const result = await super._finalizeValidation(...arguments);
        if (toppedUp && order.state !== "draft") {
            await this.pos.refreshCustomerCreditBalances([partner]);
        }
        return result;
    },
    _showCustomerCreditTopupRefusal(reason) {
        const bodies = {
            credit: _t(
                "Credit cannot pay a credit top-up: take cash, card or another payment method for this order."
            ),
            customer: _t("A credit top-up needs a customer: select the customer whose credit is topped up."),
        };
        this.dialog.add(AlertDialog, { title: _t("Customer Credit"), body: bodies[reason] });
    },
});
